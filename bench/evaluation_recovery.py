"""Planted-truth sweep of the intervention evaluation (issue #18).

    python -m bench.evaluation_recovery [--seeds 20] [--end 2025-12]
    python -m bench.evaluation_recovery --seeds 200 --scenario 1 --worlds nulo

For each seed and scenario (app/demo/evaluation_recovery.py: SCENARIOS), three worlds of the
same seed: the planted 40 % drop, the null world, and the drop with every removed complaint
moved into the ring (displacement). Prints per scenario, with the goals of the issue:

* signal world: right sign, interval covering the planted IRR 0.6, "baja" verdicts, and
  "baja" among the seeds whose minimum detectable effect is <= 40 % (detectable);
* null world: interval covering 1, false "significant" verdicts (nominal 5 %);
* displacement world: "posible desplazamiento" verdicts and WDQ < 0, against the same rates
  in the world without displacement.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from datetime import date
from pathlib import Path
from statistics import NormalDist, median

from app.demo.evaluation_recovery import (
    DISPLACED,
    PLANTED,
    SCENARIOS,
    EvaluationRecovery,
    Scenario,
    recover,
)
from app.demo.sources import DemoSources, sources_from_files

REPO = Path(__file__).resolve().parents[1]
DROP = 0.4


def predicted_power(mde: float | None, drop: float = DROP) -> float:
    """Power for `drop` implied by the MDE: SE0 = -log(1 - MDE) / (z_0.975 + z_0.80), power =
    Phi(-log(1 - drop) / SE0 - z_0.975) (the far tail neglected)."""
    if mde is None:
        return 0.0
    z = NormalDist()
    se0 = -math.log(1 - mde) / (z.inv_cdf(0.975) + z.inv_cdf(0.80))
    return z.cdf(-math.log(1 - drop) / se0 - z.inv_cdf(0.975))


def _rate(hits: int, n: int) -> str:
    return f"{hits}/{n} = {hits / n:.0%}" if n else "0/0"


WORLDS = {"efecto": (True, PLANTED), "nulo": (False, PLANTED), "desplazamiento": (True, DISPLACED)}


def sweep(
    sources: DemoSources, scenario: Scenario, seeds: range, end: date, worlds: list[str]
) -> dict[str, list[EvaluationRecovery]]:
    runs: dict[str, list[EvaluationRecovery]] = {name: [] for name in WORLDS}
    for seed in seeds:
        for name in worlds:
            signal, base = WORLDS[name]
            runs[name].append(
                recover(sources, seed=seed, end=end, scenario=scenario, signal=signal, base=base)
            )
    return runs


def report(scenario: Scenario, runs: dict[str, list[EvaluationRecovery]]) -> None:
    signal = [r for r in runs["efecto"] if r.refused is None]
    null = [r for r in runs["nulo"] if r.refused is None]
    moved = [r for r in runs["desplazamiento"] if r.refused is None]
    refused = sum(r.refused is not None for rs in runs.values() for r in rs)
    n, m = len(signal), len(null)
    print(f"\n## {scenario.name}")
    print(f"evaluaciones rechazadas por pocos casos: {refused}")
    if m:
        print(f"nulo: IC 95 % cubre 1 {_rate(sum(r.covered for r in null), m)}")
        false = _rate(sum(r.significant for r in null), m)
        print(f"nulo: veredicto 'significativo' (baja o alza) {false} (nominal 5 %)")
    if not n:
        return
    detectable = [r for r in signal if r.detectable(DROP)]
    mdes = [r.mde for r in signal if r.mde is not None]
    exact = sum(r.test == "exacto" for r in signal)
    print(
        f"denuncias del área antes (mediana): {median(r.treated_before for r in signal):.0f}; "
        f"MDE mediano: {median(mdes):.0%}; prueba exacta en {exact}"
    )
    print(f"efecto: signo correcto {_rate(sum(r.right_sign for r in signal), n)}")
    print(f"efecto: IC 95 % cubre 0,6 {_rate(sum(r.covered for r in signal), n)} (meta >= 90 %)")
    print(f"efecto: veredicto 'baja' {_rate(sum(r.verdict_code == 'baja' for r in signal), n)}")
    power = sum(predicted_power(r.mde) for r in signal) / n
    print(
        f"efecto: 'baja' cuando el MDE <= 40 % "
        f"{_rate(sum(r.verdict_code == 'baja' for r in detectable), len(detectable))}; "
        f"potencia prevista por el MDE (media) {power:.0%} frente a 'baja' observada "
        f"{sum(r.verdict_code == 'baja' for r in signal) / n:.0%}"
    )
    if not moved:
        return
    print(
        "desplazamiento: 'posible desplazamiento' "
        f"{_rate(sum(r.displacement_code == 'desplazamiento' for r in moved), len(moved))} "
        f"(sin desplazamiento plantado: "
        f"{_rate(sum(r.displacement_code == 'desplazamiento' for r in signal), n)}); "
        f"WDQ < 0 {_rate(sum((r.wdq or 0) < 0 for r in moved), len(moved))} "
        f"(sin: {_rate(sum((r.wdq or 0) < 0 for r in signal), n)}); "
        f"trasladadas por semilla (mediana) {median(r.moved for r in moved):.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--end", default="2025-12")
    parser.add_argument("--scenario", type=int, action="append", help="índice en SCENARIOS")
    parser.add_argument("--worlds", default="efecto,nulo,desplazamiento")
    args = parser.parse_args()
    worlds = args.worlds.split(",")
    chosen = [SCENARIOS[i] for i in args.scenario] if args.scenario else list(SCENARIOS)
    end = date.fromisoformat(f"{args.end}-01")
    sources = sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")
    print(f"carga antes: {os.getloadavg()}; semillas {args.seeds}; {PLANTED}")
    started = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for scenario in chosen:
        report(scenario, sweep(sources, scenario, seeds, end, worlds))
    print(f"\n{time.perf_counter() - started:.1f} s; carga después: {os.getloadavg()}")


if __name__ == "__main__":
    main()
