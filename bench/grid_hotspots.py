"""Grid hot spots vs polygon Gi* on planted truth (issue #17, item 3).

    python -m bench.grid_hotspots [--seeds 20] [--band 125]

For each seed, the signal and the null demo world (app/demo/grid_recovery.py): recovery of
the planted micro-barrios by hot_share (top-k recall, and whether their mean share beats
the other units') and by the ranking's polygon Gi* (method 2: planted units flagged);
false positives in the null world (share of hot cells; units with hot_share >= 0.10;
units flagged by polygon Gi*); seconds per seed for each side, with the load averages.
"""

from __future__ import annotations

import argparse
import os
import statistics
from datetime import date
from pathlib import Path

from app.demo.grid_recovery import recover
from app.demo.sources import sources_from_files

REPO = Path(__file__).resolve().parents[1]
END = date(2025, 12, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--band", type=float, default=125.0)
    args = parser.parse_args()
    sources = sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")
    print(f"carga al inicio: {os.getloadavg()}")
    recall, wins, poly_found, planted_n, planted_share, other_share = [], 0, 0, 0, [], []
    null_cells, null_units, null_poly, units = [], 0, 0, 0
    grid_s, poly_s = [], []
    for seed in range(1, args.seeds + 1):
        signal = recover(sources, seed=seed, end=END, band_m=args.band)
        null = recover(sources, seed=seed, end=END, signal=False, band_m=args.band)
        planted = list(signal.planted)
        recall.append(signal.grid_recall_top_k)
        mine, others = signal.share[planted].mean(), signal.share.drop(planted).mean()
        planted_share.append(mine)
        other_share.append(others)
        wins += mine > others
        poly_found += len(set(signal.polygon_hot) & set(planted))
        planted_n += len(planted)
        null_cells.append(null.hot_cells / null.cells)
        null_units += int((null.share >= 0.10).sum())
        null_poly += len(null.polygon_hot)
        units += len(null.share)
        grid_s += [signal.grid_seconds, null.grid_seconds]
        poly_s += [signal.polygon_seconds, null.polygon_seconds]
    n = args.seeds
    print(f"celdas: {signal.cells}; DMCS (12 meses): {signal.events}, fuera: {signal.outside}")
    print(f"grilla, recall top-k por hot_share: {statistics.mean(recall):.0%} (media de {n})")
    print(f"grilla, media plantadas > media resto: {wins}/{n}")
    print(
        f"  hot_share medio plantadas {statistics.mean(planted_share):.3f}, "
        f"resto {statistics.mean(other_share):.3f}"
    )
    print(f"polígonos (Gi* método 2), plantadas marcadas: {poly_found}/{planted_n}")
    print(
        f"mundo nulo: celdas calientes {statistics.mean(null_cells):.2%} "
        f"(máx {max(null_cells):.2%}); unidades con hot_share >= 0,10: {null_units}/{units}; "
        f"polígonos marcados: {null_poly}/{units}"
    )
    for name, values in (("grilla", grid_s), ("polígonos", poly_s)):
        q = statistics.quantiles(values, n=4)
        print(
            f"{name}: mediana {statistics.median(values):.3f} s por mundo "
            f"(p25 {q[0]:.3f}, p75 {q[2]:.3f})"
        )
    print(f"carga al final: {os.getloadavg()}")


if __name__ == "__main__":
    main()
