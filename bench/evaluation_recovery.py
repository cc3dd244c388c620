"""Planted-truth sweep of the intervention evaluation (issue #18).

    python -m bench.evaluation_recovery [--seeds 20] [--end 2025-12]

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
import os
import time
from datetime import date
from pathlib import Path
from statistics import median

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


def _rate(hits: int, n: int) -> str:
    return f"{hits}/{n} = {hits / n:.0%}" if n else "0/0"


def sweep(
    sources: DemoSources, scenario: Scenario, seeds: range, end: date
) -> dict[str, list[EvaluationRecovery]]:
    runs: dict[str, list[EvaluationRecovery]] = {"efecto": [], "nulo": [], "desplazamiento": []}
    for seed in seeds:
        runs["efecto"].append(recover(sources, seed=seed, end=end, scenario=scenario))
        runs["nulo"].append(recover(sources, seed=seed, end=end, scenario=scenario, signal=False))
        runs["desplazamiento"].append(
            recover(sources, seed=seed, end=end, scenario=scenario, base=DISPLACED)
        )
    return runs


def report(scenario: Scenario, runs: dict[str, list[EvaluationRecovery]]) -> None:
    signal = [r for r in runs["efecto"] if r.refused is None]
    null = [r for r in runs["nulo"] if r.refused is None]
    moved = [r for r in runs["desplazamiento"] if r.refused is None]
    refused = sum(r.refused is not None for rs in runs.values() for r in rs)
    n, m = len(signal), len(null)
    detectable = [r for r in signal if r.detectable(DROP)]
    mdes = [r.mde for r in signal if r.mde is not None]
    print(f"\n## {scenario.name}")
    print(f"evaluaciones rechazadas por pocos casos: {refused}")
    exact = sum(r.test == "exacto" for r in signal)
    print(
        f"denuncias del área antes (mediana): {median(r.treated_before for r in signal):.0f}; "
        f"MDE mediano: {median(mdes):.0%}; prueba exacta en {exact}"
    )
    print(f"efecto: signo correcto {_rate(sum(r.right_sign for r in signal), n)}")
    print(f"efecto: IC 95 % cubre 0,6 {_rate(sum(r.covered for r in signal), n)} (meta >= 90 %)")
    print(f"efecto: veredicto 'baja' {_rate(sum(r.verdict_code == 'baja' for r in signal), n)}")
    print(
        f"efecto: 'baja' cuando el MDE <= 40 % "
        f"{_rate(sum(r.verdict_code == 'baja' for r in detectable), len(detectable))}"
    )
    print(f"nulo: IC 95 % cubre 1 {_rate(sum(r.covered for r in null), m)}")
    false = _rate(sum(r.significant for r in null), m)
    print(f"nulo: veredicto 'significativo' (baja o alza) {false} (nominal 5 %)")
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
    args = parser.parse_args()
    end = date.fromisoformat(f"{args.end}-01")
    sources = sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")
    print(f"carga antes: {os.getloadavg()}; semillas {args.seeds}; {PLANTED}")
    started = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for scenario in SCENARIOS:
        report(scenario, sweep(sources, scenario, seeds, end))
    print(f"\n{time.perf_counter() - started:.1f} s; carga después: {os.getloadavg()}")


if __name__ == "__main__":
    main()
