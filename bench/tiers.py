"""Synthetic data tiers for Vigía's benchmarks.

    python -m bench.tiers lanco   # real Lanco territory, ~10k complaints (demo generator)
    python -m bench.tiers region  # 12 synthetic comunas, 2,304 micro-barrios, 1M complaints
    python -m bench.tiers nation  # 346 synthetic comunas, 66k micro-barrios, 12M complaints

Each tier is written to bench/data/<tier>/: territory/*.geojson (one file per comuna, the
format `vigia territory load` reads) and complaints.csv (the format of
`vigia complaints import`). Everything is deterministic for a seed. The synthetic comunas
are rectangles on a grid (barrios 4x4, micro-barrios 3x4 per barrio) so that building
them costs nothing; complaints cluster on heavy-tailed micro-barrio weights.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
from shapely.geometry import box, mapping

from app.demo import complaints as demo_data

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
OUT = ROOT / "bench" / "data"


@dataclass(frozen=True)
class Tier:
    name: str
    comunas: int
    complaints: int


TIERS = {
    "lanco": Tier("lanco", 1, 10_000),
    "region": Tier("region", 12, 1_000_000),
    "nation": Tier("nation", 346, 12_000_000),
}
BARRIOS = (4, 4)  # columns x rows of barrios in a comuna
MICRO = (3, 4)  # columns x rows of micro-barrios in a barrio
COMUNA_DEG = 0.2  # side of a synthetic comuna (~17 x 22 km at 40°S)
ORIGIN = (-73.0, -41.0)  # south-west corner of the synthetic grid (southern Chile)
GRID_COLUMNS = 20  # comunas per row of the synthetic grid


def _category_weights() -> tuple[list[str], np.ndarray]:
    """Catalog codes weighted by Lanco's 2024 volumes, so categories look realistic."""
    with (DATA / "categories.csv").open(encoding="utf-8") as handle:
        categories = list(csv.DictReader(handle))
    monthly = demo_data.read_cead_monthly(DATA / "lanco" / "cead_mensual_2010_2025.csv")
    detail = demo_data.read_cead_monthly(
        DATA / "lanco" / "cead_subcategorias_mensual_2018_2024sep.csv"
    )
    leaves, shares, extra = demo_data.catalog_splits(categories, detail)
    weights: dict[str, float] = {}
    for series, codes in leaves.items():
        total = sum(v for m, v in monthly.get(series, {}).items() if m.year == 2024)
        for code in codes:
            weights[code] = weights.get(code, 0.0) + total * shares[code]
    for code, mean in extra.items():
        weights[code] = weights.get(code, 0.0) + 12 * mean
    codes = sorted(c for c, w in weights.items() if w > 0)
    p = np.array([weights[c] for c in codes])
    return codes, p / p.sum()


def synthetic_comuna(index: int) -> dict[str, object]:
    """A rectangular comuna with 16 barrios and 192 micro-barrios, as a territory file."""
    cut = f"{90000 + index:05d}"
    x0 = ORIGIN[0] + (index % GRID_COLUMNS) * COMUNA_DEG
    y0 = ORIGIN[1] + (index // GRID_COLUMNS) * COMUNA_DEG
    features: list[dict[str, object]] = []
    bw, bh = COMUNA_DEG / BARRIOS[0], COMUNA_DEG / BARRIOS[1]
    mw, mh = bw / MICRO[0], bh / MICRO[1]
    barrio_features, micro_features = [], []
    for bi in range(BARRIOS[0] * BARRIOS[1]):
        bx, by = x0 + (bi % BARRIOS[0]) * bw, y0 + (bi // BARRIOS[0]) * bh
        code = f"{cut}-B{bi + 1:02d}"
        population = 800 + (index * 7919 + bi * 104729) % 4000
        barrio_features.append(
            {
                "type": "Feature",
                "id": code,
                "properties": {
                    "level": "barrio",
                    "code": code,
                    "name": f"Barrio {bi + 1}",
                    "parent": cut,
                    "population": population,
                },
                "geometry": mapping(box(bx, by, bx + bw, by + bh)),
            }
        )
        cells = MICRO[0] * MICRO[1]
        for mi in range(cells):
            mx, my = bx + (mi % MICRO[0]) * mw, by + (mi // MICRO[0]) * mh
            mcode = f"{code}-{mi + 1:02d}"
            micro_features.append(
                {
                    "type": "Feature",
                    "id": mcode,
                    "properties": {
                        "level": "micro_barrio",
                        "code": mcode,
                        "name": f"Micro-barrio {mi + 1} del barrio {bi + 1}",
                        "parent": code,
                        "population": population // cells,
                        "population_estimated": True,
                    },
                    "geometry": mapping(box(mx, my, mx + mw, my + mh)),
                }
            )
    features.append(
        {
            "type": "Feature",
            "id": cut,
            "properties": {
                "level": "comuna",
                "code": cut,
                "name": f"Comuna sintética {index + 1}",
                "parent": None,
                "region": "Región sintética",
                "region_code": "99",
            },
            "geometry": mapping(box(x0, y0, x0 + COMUNA_DEG, y0 + COMUNA_DEG)),
        }
    )
    return {"type": "FeatureCollection", "features": features + barrio_features + micro_features}


def synthetic_complaints(tier: Tier, seed: int) -> Iterator[list[str]]:
    """Rows in the import CSV format, spread over the tier's synthetic micro-barrios."""
    rng = np.random.default_rng(seed)
    codes, p = _category_weights()
    micro_per_comuna = BARRIOS[0] * BARRIOS[1] * MICRO[0] * MICRO[1]
    cells = tier.comunas * micro_per_comuna
    weights = rng.gamma(0.5, 1.0, cells)
    weights /= weights.sum()
    bw, bh = COMUNA_DEG / BARRIOS[0], COMUNA_DEG / BARRIOS[1]
    mw, mh = bw / MICRO[0], bh / MICRO[1]
    end = datetime(2026, 10, 31, tzinfo=UTC)
    span = timedelta(days=3650).total_seconds()
    chunk = 100_000
    serial = 0
    while serial < tier.complaints:
        n = min(chunk, tier.complaints - serial)
        cell = rng.choice(cells, size=n, p=weights)
        comuna, rest = np.divmod(cell, micro_per_comuna)
        barrio, micro = np.divmod(rest, MICRO[0] * MICRO[1])
        x0 = ORIGIN[0] + (comuna % GRID_COLUMNS) * COMUNA_DEG + (barrio % BARRIOS[0]) * bw
        y0 = ORIGIN[1] + (comuna // GRID_COLUMNS) * COMUNA_DEG + (barrio // BARRIOS[0]) * bh
        # keep points 1% away from cell edges: benchmarks measure ingest, not boundary rules
        lon = x0 + (micro % MICRO[0]) * mw + rng.uniform(0.01, 0.99, n) * mw
        lat = y0 + (micro // MICRO[0]) * mh + rng.uniform(0.01, 0.99, n) * mh
        category = rng.choice(len(codes), size=n, p=p)
        seconds = rng.uniform(0, span, n)
        for i in range(n):
            serial += 1
            occurred = end - timedelta(seconds=float(seconds[i]))
            yield [
                f"BENCH-{seed}-{serial:08d}",
                "demo",
                codes[int(category[i])],
                occurred.isoformat(timespec="seconds"),
                f"{lon[i]:.6f}",
                f"{lat[i]:.6f}",
                "exact",
                "",
            ]


def write_tier(name: str, seed: int, limit: int | None = None) -> Path:
    tier = TIERS[name]
    if limit is not None:
        tier = Tier(tier.name, tier.comunas, limit)
    out = OUT / name
    (out / "territory").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if name == "lanco":
        (out / "territory" / "lanco.geojson").write_bytes((DATA / "barrios.geojson").read_bytes())
        document = orjson.loads((DATA / "barrios.geojson").read_bytes())
        from shapely.geometry import shape

        barrios = [
            demo_data.BarrioShape(
                f["properties"]["code"], f["properties"]["population"] or 0, shape(f["geometry"])
            )
            for f in document["features"]
            if f["properties"]["level"] == "barrio"
        ]
        sources = demo_data.build_sources(barrios, demo_data.DemoFiles.in_directory(DATA))
        rows = demo_data.generate(sources, end=date(2026, 10, 1), years=11, seed=seed)
        count = demo_data.write_csv(
            (r for i, r in enumerate(rows) if i < tier.complaints), out / "complaints.csv"
        )
    else:
        for index in range(tier.comunas):
            path = out / "territory" / f"{90000 + index:05d}.geojson"
            path.write_bytes(orjson.dumps(synthetic_comuna(index)))
        count = 0
        with (out / "complaints.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(demo_data.CSV_FIELDS)
            for row in synthetic_complaints(tier, seed):
                writer.writerow(row)
                count += 1
                if count % 500_000 == 0:
                    print(f"  {count:,} filas…", file=sys.stderr)
    elapsed = time.perf_counter() - started
    print(f"{name}: {tier.comunas} comuna(s), {count:,} denuncias en {out} ({elapsed:.1f} s)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tier", choices=sorted(TIERS))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rows", type=int, default=None, help="override the complaint count")
    args = parser.parse_args()
    write_tier(args.tier, args.seed, args.rows)


if __name__ == "__main__":
    main()
