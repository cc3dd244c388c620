"""Realistic synthetic complaints ("denuncias") for demonstrations and benchmarks.

Volumes follow the comuna's real monthly CEAD series, category by category; places follow
where people live. Nothing here knows about Lanco: the comuna, its barrios, census blocks,
street names and CEAD series all come in as data (see `DemoSources`).

How a month is filled:
- each CEAD series gives that month's count (months past the series repeat the same
  calendar month of its last year, drawn from a Poisson law); a series shared by several
  catalog leaves (drugs, VIF, weapons...) is split in the proportions of the detailed
  subcategory file, or evenly when that file has no split;
- each complaint goes to a barrio with probability proportional to its population;
- in barrios with census blocks, to a block drawn from heavy-tailed weights (a few blocks
  collect many cases: the clustering police see), uniformly inside it, with a street
  address; elsewhere (the rural remainder), around one of several rural sectors.

Every record is marked `source = demo` and the same seed gives the same rows.
"""

from __future__ import annotations

import calendar
import csv
import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
from shapely import STRtree, contains_xy, wkb
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Barrio, Complaint, ComplaintSource
from app.timezone import CHILE_TZ

CSV_FIELDS = (
    "external_ref",
    "source",
    "category",
    "occurred_at",
    "lon",
    "lat",
    "precision",
    "address",
)
# Share of complaints per hour of the day (0-23): quiet before dawn, peaks in the evening.
_HOURLY = np.array(
    [3, 2, 2, 1.5, 1, 1, 1.5, 2.5, 3.5, 4, 4.5, 5, 5, 5, 5, 5, 5.5, 6, 6.5, 7, 7, 6.5, 5.5, 4]
)
_HOURLY = _HOURLY / _HOURLY.sum()
RURAL_SPREAD_M = 900.0


@dataclass
class BarrioShape:
    code: str
    population: int
    geom: BaseGeometry
    blocks: list[BaseGeometry] = field(default_factory=list)


@dataclass
class DemoSources:
    """Everything the generator needs to know about one comuna."""

    barrios: list[BarrioShape]
    monthly: dict[str, dict[date, float]]  # CEAD series -> month -> count
    leaves: dict[str, list[str]]  # CEAD series -> catalog codes sharing it
    leaf_shares: dict[str, float]  # catalog code -> share of its series
    extra_monthly_mean: dict[str, float]  # catalog code without series -> mean per month
    streets: list[str]
    rural_sectors: list[str]


@dataclass(frozen=True)
class DemoComplaint:
    external_ref: str
    category: str
    occurred_at: datetime
    lon: float
    lat: float
    precision: str
    address: str

    def as_row(self) -> dict[str, str]:
        return {
            "external_ref": self.external_ref,
            "source": "demo",
            "category": self.category,
            "occurred_at": self.occurred_at.isoformat(),
            "lon": f"{self.lon:.6f}",
            "lat": f"{self.lat:.6f}",
            "precision": self.precision,
            "address": self.address,
        }


# ---------------------------------------------------------------------------------------
# Reading the data files


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_cead_monthly(path: Path) -> dict[str, dict[date, float]]:
    series: dict[str, dict[date, float]] = defaultdict(dict)
    for row in _read_csv(path):
        month = date.fromisoformat(row["fecha"][:10]).replace(day=1)
        series[row["delito"]][month] = float(row["delito_n"] or 0)
    return dict(series)


def catalog_splits(
    categories: list[dict[str, str]], detail: dict[str, dict[date, float]]
) -> tuple[dict[str, list[str]], dict[str, float], dict[str, float]]:
    """Which leaves share each CEAD series, their shares, and leaves with no series."""
    leaves: dict[str, list[str]] = defaultdict(list)
    extra: dict[str, float] = {}
    totals = {name: sum(values.values()) for name, values in detail.items()}
    months = {name: len(values) for name, values in detail.items()}
    for row in categories:
        if row["cead_series"]:
            leaves[row["cead_series"]].append(row["code"])
        elif totals.get(row["name"]):
            extra[row["code"]] = totals[row["name"]] / months[row["name"]]
    names = {row["code"]: row["name"] for row in categories}
    shares: dict[str, float] = {}
    for codes in leaves.values():
        known = {code: totals.get(names[code], 0.0) for code in codes}
        total = sum(known.values())
        for code in codes:
            shares[code] = known[code] / total if total > 0 else 1 / len(codes)
    return dict(leaves), shares, extra


def read_blocks(path: Path) -> list[BaseGeometry]:
    document = orjson.loads(path.read_bytes())
    return [shape(f["geometry"]) for f in document["features"]]


def read_names(path: Path) -> tuple[list[str], list[str]]:
    """(urban street names, rural sector names), title-cased."""
    streets: list[str] = []
    sectors: list[str] = []
    for row in _read_csv(path):
        name = " ".join(w.capitalize() if len(w) > 2 else w.lower() for w in row["nombre"].split())
        (sectors if row["tipo"].lower().startswith("rural") else streets).append(name)
    return streets, sectors


def attach_blocks(barrios: list[BarrioShape], blocks: Sequence[BaseGeometry]) -> None:
    """Give each barrio the census blocks whose representative point falls inside it."""
    tree = STRtree([b.geom for b in barrios])
    for block in blocks:
        point = block.representative_point()
        for index in tree.query(point, predicate="intersects"):
            barrios[int(index)].blocks.append(block)
            break


# ---------------------------------------------------------------------------------------
# Generation


def months_back(end: date, years: int) -> list[date]:
    """The 12*years months ending with `end`'s month, oldest first."""
    months = []
    year, month = end.year, end.month
    for _ in range(12 * years):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _monthly_count(values: dict[date, float], month: date, rng: np.random.Generator) -> int:
    if month in values:
        return int(round(values[month]))
    last_year = max(m.year for m in values)
    same = values.get(date(last_year, month.month, 1))
    if same is None:
        same = float(np.mean(list(values.values())))
    return int(rng.poisson(same))


class Placer:
    """Draws clustered locations inside a comuna's barrios."""

    def __init__(self, barrios: list[BarrioShape], sectors: list[str], rng: np.random.Generator):
        self.rng = rng
        self.barrios = [b for b in barrios if b.population > 0]
        pops = np.array([b.population for b in self.barrios], dtype=float)
        self.barrio_p = pops / pops.sum()
        self.block_p: dict[str, np.ndarray] = {}
        for barrio in self.barrios:
            if barrio.blocks:
                weights = rng.gamma(0.6, 1.0, len(barrio.blocks))
                self.block_p[barrio.code] = weights / weights.sum()
        self.rural: dict[str, list[tuple[float, float, str]]] = {}
        self.rural_p: dict[str, np.ndarray] = {}
        self._prepared = {b.code: prep(b.geom) for b in self.barrios}
        for barrio in self.barrios:
            if not barrio.blocks and sectors:
                centres = [(*self._uniform(barrio.geom), name) for name in sectors]
                self.rural[barrio.code] = centres
                weights = rng.gamma(1.0, 1.0, len(centres))
                self.rural_p[barrio.code] = weights / weights.sum()
        self._metres_per_degree_lat = 111_320.0
        centre = barrios[0].geom.centroid
        self._metres_per_degree_lon = 111_320.0 * math.cos(math.radians(centre.y))

    def _uniform(self, geom: BaseGeometry) -> tuple[float, float]:
        minx, miny, maxx, maxy = geom.bounds
        for _ in range(10_000):
            x, y = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
            if contains_xy(geom, x, y):
                return float(x), float(y)
        point = geom.representative_point()
        return point.x, point.y

    def place(self, streets: list[str]) -> tuple[float, float, str, str]:
        barrio = self.barrios[int(self.rng.choice(len(self.barrios), p=self.barrio_p))]
        if barrio.blocks:
            blocks = barrio.blocks
            block = blocks[int(self.rng.choice(len(blocks), p=self.block_p[barrio.code]))]
            lon, lat = self._uniform(block)
            street = streets[int(self.rng.integers(len(streets)))] if streets else "Calle"
            number = int(self.rng.integers(1, 120)) * 10 + int(self.rng.integers(0, 10))
            precision = "exact" if self.rng.random() < 0.55 else "street"
            return lon, lat, f"{street} {number}", precision
        centres = self.rural.get(barrio.code)
        if not centres:
            lon, lat = self._uniform(barrio.geom)
            return lon, lat, "", "approximate"
        cx, cy, sector = centres[int(self.rng.choice(len(centres), p=self.rural_p[barrio.code]))]
        prepared = self._prepared[barrio.code]
        for _ in range(200):
            dx, dy = self.rng.normal(0.0, RURAL_SPREAD_M, 2)
            lon = cx + dx / self._metres_per_degree_lon
            lat = cy + dy / self._metres_per_degree_lat
            if prepared.contains_properly(shape({"type": "Point", "coordinates": (lon, lat)})):
                break
        else:
            lon, lat = cx, cy
        km = int(self.rng.integers(1, 25))
        return float(lon), float(lat), f"Sector {sector}, km {km}", "approximate"


def generate(
    sources: DemoSources, *, end: date, years: int, seed: int, prefix: str = "DEMO"
) -> Iterator[DemoComplaint]:
    """Yield synthetic complaints month by month, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    placer = Placer(sources.barrios, sources.rural_sectors, rng)
    serial = 0
    for month in months_back(end, years):
        days = calendar.monthrange(month.year, month.month)[1]
        counts: dict[str, int] = defaultdict(int)
        for series, codes in sorted(sources.leaves.items()):
            values = sources.monthly.get(series)
            if not values:
                continue
            n = _monthly_count(values, month, rng)
            if n <= 0:
                continue
            shares = np.array([sources.leaf_shares[c] for c in codes])
            for code, k in zip(codes, rng.multinomial(n, shares / shares.sum()), strict=True):
                counts[code] += int(k)
        for code, mean in sorted(sources.extra_monthly_mean.items()):
            counts[code] += int(rng.poisson(mean))
        for code in sorted(counts):
            for _ in range(counts[code]):
                serial += 1
                day = int(rng.integers(days))
                hour = int(rng.choice(24, p=_HOURLY))
                minute = int(rng.integers(60))
                local = datetime(month.year, month.month, 1, hour, minute) + timedelta(days=day)
                lon, lat, address, precision = placer.place(sources.streets)
                yield DemoComplaint(
                    external_ref=f"{prefix}-{seed}-{serial:07d}",
                    category=code,
                    occurred_at=local.replace(tzinfo=CHILE_TZ),
                    lon=lon,
                    lat=lat,
                    precision=precision,
                    address=address,
                )


def write_csv(rows: Iterator[DemoComplaint], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row.as_row())
            count += 1
    return count


@dataclass(frozen=True)
class DemoFiles:
    """Where a comuna's demo inputs live (the defaults are the Lanco files in data/)."""

    categories: Path
    monthly: Path
    detail: Path
    blocks: Path | None
    names: Path | None

    @classmethod
    def in_directory(cls, data: Path, comuna_dir: str = "lanco") -> DemoFiles:
        base = data / comuna_dir
        return cls(
            categories=data / "categories.csv",
            monthly=base / "cead_mensual_2010_2025.csv",
            detail=base / "cead_subcategorias_mensual_2018_2024sep.csv",
            blocks=base / "manzanas_precenso_2016.geojson",
            names=base / "calles.csv",
        )


def build_sources(barrios: list[BarrioShape], files: DemoFiles) -> DemoSources:
    detail = read_cead_monthly(files.detail) if files.detail.exists() else {}
    leaves, shares, extra = catalog_splits(_read_csv(files.categories), detail)
    if files.blocks is not None and files.blocks.exists():
        attach_blocks(barrios, read_blocks(files.blocks))
    streets, sectors = read_names(files.names) if files.names else ([], [])
    return DemoSources(
        barrios=barrios,
        monthly=read_cead_monthly(files.monthly),
        leaves=leaves,
        leaf_shares=shares,
        extra_monthly_mean=extra,
        streets=streets,
        rural_sectors=sectors,
    )


def last_complete_month(today: date) -> date:
    first = today.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def comuna_barrios(session: Session, comuna: str) -> list[BarrioShape]:
    """The comuna's barrios as loaded in the database (the generator's map)."""
    rows = session.execute(
        select(Barrio.code, Barrio.population, func.ST_AsBinary(Barrio.geom))
        .where(Barrio.comuna_code == comuna)
        .order_by(Barrio.code)
    )
    return [
        BarrioShape(code, population or 0, wkb.loads(bytes(geom)))
        for code, population, geom in rows
    ]


def demo_rows_exist(session: Session, comuna: str) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Complaint)
            .where(Complaint.comuna_code == comuna, Complaint.source == ComplaintSource.DEMO)
        )
    )
