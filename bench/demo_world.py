"""How long one planted-truth world takes, without a database (the recovery sweep's unit).

    python -m bench.demo_world [--seeds 20] [--years 5] [--end 2025-12]

Per seed, interleaved: `simulate` with the signal and the null world of the same seed, and
`ranking_inputs` for both levels. Files are read once (`sources_from_files` is cached), as a
sweep reads them. Prints medians and spread per step and the load averages before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import date
from pathlib import Path

from app.demo.inputs import ranking_inputs
from app.demo.sources import sources_from_files
from app.demo.world import simulate
from app.scoring import Period

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--end", default="2025-12")
    args = parser.parse_args()
    end = date.fromisoformat(f"{args.end}-01")
    after = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    period = Period(start=after.replace(year=after.year - 1), end=after)  # the last 12 months
    print(f"carga antes: {os.getloadavg()}")
    started = time.perf_counter()
    sources = sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")
    simulate(sources, seed=0, end=end, years=args.years)  # warm caches (areas, catalog)
    print(f"lectura de archivos y primer mundo: {time.perf_counter() - started:.2f} s")
    times: dict[str, list[float]] = {"señal": [], "nulo": [], "entradas": []}
    rows = 0
    for seed in range(1, args.seeds + 1):
        for name, signal in (("señal", True), ("nulo", False)):
            t0 = time.perf_counter()
            world = simulate(sources, seed=seed, end=end, years=args.years, signal=signal)
            times[name].append(time.perf_counter() - t0)
            rows = len(world.complaints)
            t0 = time.perf_counter()
            for level in ("barrio", "micro_barrio"):
                ranking_inputs(world, level=level, period=period)
            times["entradas"].append(time.perf_counter() - t0)
    for name, values in times.items():
        q = statistics.quantiles(values, n=10)
        print(
            f"{name:9s} mediana {statistics.median(values) * 1000:6.1f} ms  "
            f"p10 {q[0] * 1000:6.1f}  p90 {q[-1] * 1000:6.1f}  (n={len(values)})"
        )
    print(f"denuncias por mundo: {rows}; carga después: {os.getloadavg()}")


if __name__ == "__main__":
    main()
