"""Near-repeat (Knox) sweep: does the test find the planted pattern, and how fast is it?

    python -m bench.near_repeat [--seeds 40] [--months 24] [--permutations 999]
                                [--sizes 1000,5000,20000] [--rounds 3]

1. Planted truth (app/demo/near_repeat_recovery.py), Lanco's robo en lugar habitado over the
   last `--months` months: for each seed, the signal world (near-repeat pattern planted) and
   the null world; prints how often the planted cell (<= 100 m, <= 7 days) is significant
   and the share of all cells flagged in the null world (nominal alpha 0.05).
2. Speed: Knox tables of `--sizes` events spread uniformly over 10 x 10 km in one year, with
   the default bands and 999 permutations, against pointpats' single-threshold Knox (99
   permutations: its loop is Python) on the same events, the two sides interleaved round by
   round; medians and spread, with the load averages.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np

from app.demo.near_repeat_recovery import recover
from app.demo.sources import sources_from_files
from app.scoring.near_repeat import knox_table

REPO = Path(__file__).resolve().parents[1]


def sweep(seeds: int, months: int, permutations: int, end: date) -> None:
    sources = sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")
    signal, null, seconds = [], [], []
    for seed in range(1, seeds + 1):
        for flag, bucket in ((True, signal), (False, null)):
            started = time.perf_counter()
            result, _ = recover(
                sources, seed=seed, signal=flag, end=end, months=months, permutations=permutations
            )
            seconds.append(time.perf_counter() - started)
            bucket.append(result)
    n = len(signal)
    found = sum(r.planted_flagged for r in signal)
    null_planted = sum(r.planted_flagged for r in null)
    flagged = sum(r.flagged_cells for r in null)
    cells = sum(r.cells for r in null)
    ratios = [r.ratio for r in signal if r.ratio is not None]
    print(
        f"eventos por semilla: {statistics.median(r.events for r in signal):.0f} (mediana); "
        f"trasladados: {statistics.median(r.moved for r in signal):.0f}"
    )
    print(f"celda plantada (<=100 m, <=7 días) significativa: {found}/{n} = {found / n:.0%}")
    print(f"  razón O/E de esa celda, mediana: {statistics.median(ratios):.1f}")
    print(f"mundo nulo, esa celda significativa: {null_planted}/{n} = {null_planted / n:.0%}")
    print(f"mundo nulo, celdas significativas: {flagged}/{cells} = {flagged / cells:.1%}")
    print(
        f"por mundo (simular + Knox): mediana {statistics.median(seconds):.2f} s, "
        f"máx {max(seconds):.2f} s"
    )


def speed(sizes: list[int], rounds: int) -> None:
    from pointpats.spacetime import Knox

    for size in sizes:
        rng = np.random.default_rng(size)
        x, y = rng.uniform(0, 10_000, size), rng.uniform(0, 10_000, size)
        t = np.floor(rng.uniform(0, 365, size))
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(rounds):
            started = time.perf_counter()
            knox_table(x, y, t, permutations=999)
            ours.append(time.perf_counter() - started)
            if size <= 5000:
                started = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    Knox(np.column_stack([x, y]), t[:, None], delta=100, tau=7, permutations=99)
                theirs.append(time.perf_counter() - started)
        line = (
            f"n={size}: Vigía 25 celdas × 999 perm. mediana {statistics.median(ours):.2f} s "
            f"(min {min(ours):.2f}, máx {max(ours):.2f})"
        )
        if theirs:
            line += (
                f"; pointpats 1 celda × 99 perm. mediana {statistics.median(theirs):.2f} s "
                f"(min {min(theirs):.2f}, máx {max(theirs):.2f})"
            )
        print(f"{line}; carga {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--end", default="2024-12")
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"carga antes: {os.getloadavg()}")
    sweep(args.seeds, args.months, args.permutations, date.fromisoformat(f"{args.end}-01"))
    speed([int(s) for s in args.sizes.split(",") if s], args.rounds)
    print(f"carga después: {os.getloadavg()}")


if __name__ == "__main__":
    main()
