"""Planted-truth sweep of an evaluation whose targets are the risk terrain's top cells (#17, 6).

    python -m bench.terrain_evaluation_recovery [--seeds 20] [--end 2025-12]

For each seed and share of cells (app/demo/terrain_evaluation.py: SHARES), two worlds of the
same seed: a 40 % drop planted in the model's top cells after the date, and the null world
(nothing removed). Prints per share: refusals, coverage of the planted IRR 0.6 by the 95 %
interval, right sign, "baja" verdicts, and in the null world the "significant" verdicts
(nominal 5 %) and the coverage of 1, with the load averages.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date
from pathlib import Path
from statistics import median

from app.demo.evaluation_recovery import EvaluationRecovery
from app.demo.sources import sources_from_files
from app.demo.terrain_evaluation import DROP, SHARES, recover

REPO = Path(__file__).resolve().parents[1]


def _rate(hits: int, n: int) -> str:
    return f"{hits}/{n} = {hits / n:.0%}" if n else "0/0"


def report(share: float, signal: list[EvaluationRecovery], null: list[EvaluationRecovery]) -> None:
    fit = [r for r in signal if r.refused is None]
    fit0 = [r for r in null if r.refused is None]
    print(f"top {share:.0%} de las celdas, anillo 100 m, 365 días a cada lado")
    refused = len(signal) - len(fit), len(null) - len(fit0)
    print(f"  rechazadas (pocos datos): señal {refused[0]}, nulo {refused[1]}")
    if fit:
        print(f"  denuncias del área antes (mediana): {median(r.treated_before for r in fit)}")
        print(f"  MDE mediano: {median(r.mde or 1.0 for r in fit):.0%}")
    print(f"  señal: IC 95 % cubre {1 - DROP:.1f}: {_rate(sum(r.covered for r in fit), len(fit))}")
    print(f"  señal: signo correcto: {_rate(sum(r.right_sign for r in fit), len(fit))}")
    print(f"  señal: veredicto baja: {_rate(sum(r.verdict_code == 'baja' for r in fit), len(fit))}")
    print(f"  nulo: significativo: {_rate(sum(r.significant for r in fit0), len(fit0))}")
    print(f"  nulo: IC cubre 1: {_rate(sum(r.covered for r in fit0), len(fit0))}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--end", default="2025-12", help="último mes simulado (AAAA-MM)")
    args = parser.parse_args()
    year, month = (int(v) for v in args.end.split("-"))
    end = date(year, month, 1)
    sources = sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")
    print(f"carga al inicio {os.getloadavg()}", flush=True)
    started = time.perf_counter()
    for share in SHARES:
        signal, null = [], []
        for seed in range(1, args.seeds + 1):
            signal.append(recover(sources, seed=seed, end=end, share=share))
            null.append(recover(sources, seed=seed, end=end, share=share, drop=0.0))
        report(share, signal, null)
    print(f"carga al final {os.getloadavg()}; {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
