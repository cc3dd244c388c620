"""What the demo generator knows about one comuna, read from data files (no database).

The comuna's units (barrios, micro-barrios, populations), its census blocks, street and
rural-sector names, its monthly CEAD series and the catalog flags (which categories are
DMCS, which violent: data/categories.csv, the file the `crime_category` table is loaded
from). Nothing here knows about Lanco: every choice downstream is derived from these data.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from shapely import STRtree
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.geo.territory import validate_territory
from app.settings import TerritorySettings


@dataclass
class BarrioShape:
    code: str
    population: int
    geom: BaseGeometry
    blocks: list[BaseGeometry] = field(default_factory=list)


@dataclass(frozen=True)
class MicroBarrioShape:
    code: str
    barrio: str  # the parent barrio's code
    population: int
    geom: BaseGeometry


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
    micro_barrios: list[MicroBarrioShape] = field(default_factory=list)
    dmcs_codes: frozenset[str] = frozenset()  # catalog flag `dmcs`
    violent_codes: frozenset[str] = frozenset()  # catalog flag `violent`
    sensitive_codes: frozenset[str] = frozenset()  # catalog flag `sensitive`
    # derived once per comuna (app.demo.places.build_areas), not part of the data
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


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


def category_flags(categories: list[dict[str, str]], flag: str) -> frozenset[str]:
    """Codes whose catalog column `flag` (dmcs, violent...) is true."""
    return frozenset(row["code"] for row in categories if row[flag].strip().lower() == "true")


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


def build_sources(
    barrios: list[BarrioShape],
    files: DemoFiles,
    micro_barrios: list[MicroBarrioShape] | None = None,
) -> DemoSources:
    detail = read_cead_monthly(files.detail) if files.detail.exists() else {}
    categories = _read_csv(files.categories)
    leaves, shares, extra = catalog_splits(categories, detail)
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
        micro_barrios=sorted(micro_barrios or [], key=lambda m: m.code),
        dmcs_codes=category_flags(categories, "dmcs"),
        violent_codes=category_flags(categories, "violent"),
        sensitive_codes=category_flags(categories, "sensitive"),
    )


@lru_cache(maxsize=8)
def sources_from_files(territory: Path, data_dir: Path, series: str = "lanco") -> DemoSources:
    """A territory file (barrios.geojson-like) plus the data directory, read once per process.

    Cached: a sweep over many seeds reads the files once. Treat the result as read-only.
    """
    document = orjson.loads(Path(territory).read_bytes())
    settings = TerritorySettings()
    parsed = validate_territory(
        document,
        containment_tolerance_m=settings.containment_tolerance_m,
        overlap_tolerance_m2=settings.overlap_tolerance_m2,
    )
    barrios = [BarrioShape(b.code, b.population or 0, b.geom) for b in parsed.barrios]
    micro = [
        MicroBarrioShape(m.code, m.parent or "", m.population or 0, m.geom)
        for m in parsed.micro_barrios
    ]
    return build_sources(barrios, DemoFiles.in_directory(Path(data_dir), series), micro)
