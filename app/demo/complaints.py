"""Realistic synthetic complaints ("denuncias") for demonstrations and benchmarks.

Volumes follow the comuna's real monthly CEAD series, category by category; places follow
where people live, with the planted signal of `app.demo.planted` on top (see
`app.demo.world.simulate`, which draws the whole world without a database). This module
turns a world into importable rows (external reference, street address, geocoding
precision) and reads the comuna's units from the database for `vigia demo-data`.

Every record is marked `source = demo` and the same seed gives the same rows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from shapely import wkb
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.demo.sources import (
    BarrioShape,
    DemoFiles,
    DemoSources,
    MicroBarrioShape,
    build_sources,
    catalog_splits,
    read_cead_monthly,
)
from app.demo.world import COORDINATE_DECIMALS, DemoWorld, months_back, simulate
from app.models import Barrio, Complaint, ComplaintSource, MicroBarrio

__all__ = [
    "CSV_FIELDS",
    "BarrioShape",
    "DemoComplaint",
    "DemoFiles",
    "DemoSources",
    "MicroBarrioShape",
    "build_sources",
    "catalog_splits",
    "comuna_barrios",
    "comuna_micro_barrios",
    "complaint_rows",
    "demo_rows_exist",
    "generate",
    "last_complete_month",
    "months_back",
    "read_cead_monthly",
    "write_csv",
]

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
_ADDRESS_STREAM = 7


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
            "lon": f"{self.lon:.{COORDINATE_DECIMALS}f}",
            "lat": f"{self.lat:.{COORDINATE_DECIMALS}f}",
            "precision": self.precision,
            "address": self.address,
        }


def complaint_rows(world: DemoWorld, *, prefix: str = "DEMO") -> list[DemoComplaint]:
    """The world's complaints as rows: a street and number in towns (exact or street
    precision), the rural sector and a kilometre elsewhere (approximate)."""
    seed = world.truth.seed
    rng = np.random.default_rng([seed, _ADDRESS_STREAM])
    n = len(world.complaints)
    streets = world.sources.streets or ["Calle"]
    sectors = world.sources.rural_sectors
    street = rng.integers(0, len(streets), n)
    number = rng.integers(1, 120, n) * 10 + rng.integers(0, 10, n)
    exact = rng.random(n) < 0.55
    km = rng.integers(1, 25, n)
    frame = world.complaints
    rows = []
    for i, (category, occurred, lon, lat) in enumerate(
        zip(frame["category"], frame["occurred_at"], frame["lon"], frame["lat"], strict=True)
    ):
        sector = int(world.sector[i])
        if sector >= 0:
            address, precision = f"Sector {sectors[sector]}, km {int(km[i])}", "approximate"
        else:
            address = f"{streets[int(street[i])]} {int(number[i])}"
            precision = "exact" if exact[i] else "street"
        rows.append(
            DemoComplaint(
                external_ref=f"{prefix}-{seed}-{i + 1:07d}",
                category=str(category),
                occurred_at=occurred.to_pydatetime(),
                lon=float(lon),
                lat=float(lat),
                precision=precision,
                address=address,
            )
        )
    return rows


def generate(
    sources: DemoSources,
    *,
    end: date,
    years: int,
    seed: int,
    prefix: str = "DEMO",
    signal: bool = True,
) -> Iterator[DemoComplaint]:
    """Synthetic complaints month by month, deterministic for a seed (see `simulate`)."""
    yield from complaint_rows(
        simulate(sources, seed=seed, end=end, years=years, signal=signal), prefix=prefix
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


def comuna_micro_barrios(session: Session, comuna: str) -> list[MicroBarrioShape]:
    rows = session.execute(
        select(
            MicroBarrio.code,
            Barrio.code,
            MicroBarrio.population,
            func.ST_AsBinary(MicroBarrio.geom),
        )
        .join(Barrio, Barrio.id == MicroBarrio.barrio_id)
        .where(Barrio.comuna_code == comuna)
        .order_by(MicroBarrio.code)
    )
    return [
        MicroBarrioShape(code, barrio, population or 0, wkb.loads(bytes(geom)))
        for code, barrio, population, geom in rows
    ]


def demo_rows_exist(session: Session, comuna: str) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Complaint)
            .where(Complaint.comuna_code == comuna, Complaint.source == ComplaintSource.DEMO)
        )
    )
