"""The database side of an intervention evaluation: where, and how many (#18).

* The treated area: the union of `radius_m` buffers (metres, on the spheroid) around the
  project's risk factors; a project without factors is located by the union of its barrios;
  or, when the evaluation cites a risk-terrain snapshot, the union of its top-ranked cells
  (or of its cells the project's own area touches): the model's top cells as targets.
* The catchment ring: the `catchment_m` around the treated area, the area itself cut out.
* Candidate comparison units: every micro-barrio of the comuna with the treated area and
  the ring cut out (complaints inside either never count for a unit), so units of the same
  town stay available; "same settlement" = centroid within `SETTLEMENT_M` of the treated
  area.
* Counts: relevant complaints (categories, and night hours when asked) per area and per
  time bin of equal length, received by Vigía up to `as_of`, in one statement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from geoalchemy2 import Geometry
from sqlalchemy import ColumnElement, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from app.models import (
    Barrio,
    Complaint,
    MicroBarrio,
    RiskFactorReport,
    RiskTerrainCell,
    project_barrio,
)
from app.reports.evaluation_crimes import NIGHT_HOURS, CrimeSelection
from app.risk_factors.placement import geography
from app.scoring.intervention import RING, TREATED
from app.timezone import local_time

SETTLEMENT_M = 3000


@dataclass(frozen=True)
class StudyArea:
    treated: bytes  # EWKB, SRID 4326
    outer: bytes  # treated area plus the ring
    source: str  # "factores" | "barrios" | "terreno"
    ring_units: list[str]  # names of the micro-barrios the ring touches


def _geom(wkb: bytes) -> ColumnElement[object]:
    return func.ST_GeomFromEWKB(literal(wkb))


def study_area(
    session: Session, project_id: int, radius_m: int, catchment_m: int
) -> StudyArea | None:
    """The treated area and its ring; None when the project has no factors and no barrios."""
    located = project_area(session, project_id, radius_m)
    if located is None:
        return None
    return with_ring(session, *located, catchment_m)


def project_area(session: Session, project_id: int, radius_m: int) -> tuple[bytes, str] | None:
    """The union of `radius_m` buffers around the project's factors ("factores"), else the
    union of its barrios ("barrios"); None without either."""
    R = RiskFactorReport
    buffered = cast(func.ST_Buffer(geography(R.geom), radius_m), Geometry)
    treated = session.scalar(
        select(func.ST_AsEWKB(func.ST_Union(buffered))).where(R.project_id == project_id)
    )
    source = "factores"
    if treated is None:
        source = "barrios"
        treated = session.scalar(
            select(func.ST_AsEWKB(func.ST_Union(Barrio.geom)))
            .join(project_barrio, project_barrio.c.barrio_id == Barrio.id)
            .where(project_barrio.c.project_id == project_id)
        )
    return None if treated is None else (bytes(treated), source)


def terrain_area(
    session: Session, snapshot_id: uuid.UUID, *, top: int | None, inside: bytes | None
) -> tuple[bytes, int] | None:
    """The union of a risk-terrain snapshot's cells: its `top` ranked ones, or those that
    intersect `inside` (the project's own area); with how many. None when no cell is."""
    C = RiskTerrainCell
    chosen = C.rank <= top if top is not None else func.ST_Intersects(C.geom, _geom(inside or b""))
    row = session.execute(
        select(func.ST_AsEWKB(func.ST_Union(C.geom)), func.count()).where(
            C.snapshot_id == snapshot_id, chosen
        )
    ).one()
    return None if row[0] is None else (bytes(row[0]), int(row[1]))


def with_ring(session: Session, treated: bytes, source: str, catchment_m: int) -> StudyArea:
    """The treated area, the `catchment_m` ring around it and the micro-barrios it touches."""
    widened = cast(func.ST_Buffer(geography(_geom(treated)), catchment_m), Geometry)
    outer = bytes(session.scalar(select(func.ST_AsEWKB(widened))) or b"")
    ring = func.ST_Difference(_geom(outer), _geom(treated))
    names = session.scalars(
        select(MicroBarrio.name)
        .where(func.ST_Intersects(MicroBarrio.geom, ring))
        .order_by(MicroBarrio.code)
    ).all()
    return StudyArea(treated, outer, source, list(names))


def candidate_settlements(session: Session, comuna: str, area: StudyArea) -> dict[str, bool]:
    """micro-barrio code -> in the same settlement as the treated area (its centroid within
    `SETTLEMENT_M` of some part of the area)."""
    treated = geography(_geom(area.treated))
    rows = session.execute(
        select(
            MicroBarrio.code,
            func.ST_DWithin(geography(func.ST_Centroid(MicroBarrio.geom)), treated, SETTLEMENT_M),
        ).where(MicroBarrio.comuna_code == comuna)
    )
    return {code: bool(near) for code, near in rows}


@dataclass(frozen=True)
class BinnedCounts:
    treated: np.ndarray
    ring: np.ndarray
    units: dict[str, np.ndarray]


def count_bins(
    session: Session,
    *,
    comuna: str,
    area: StudyArea,
    start: datetime,
    bin_seconds: float,
    bins: int,
    crimes: CrimeSelection,
    as_of: datetime,
    units: list[str],
) -> BinnedCounts:
    """Relevant complaints per area and bin over [start, start + bins * bin_seconds)."""
    C = Complaint
    end_epoch = func.extract("epoch", literal(start)) + bins * bin_seconds
    epoch = func.extract("epoch", C.occurred_at)
    where = [
        C.comuna_code == comuna,
        C.occurred_at >= start,
        epoch < end_epoch,
        C.received_at <= as_of,
        C.category_code.in_(crimes.codes),
    ]
    if crimes.night_only:
        hour = func.extract("hour", local_time(C.occurred_at))
        where.append(or_(hour >= NIGHT_HOURS[0], hour < NIGHT_HOURS[1]))
    label = case(
        (func.ST_Intersects(C.geom, _geom(area.treated)), TREATED),
        (func.ST_Intersects(C.geom, _geom(area.outer)), RING),
        else_=MicroBarrio.code,
    ).label("area")
    slot = func.floor((epoch - func.extract("epoch", literal(start))) / bin_seconds).label("bin")
    inner = (
        select(label, slot)
        .select_from(C)
        .outerjoin(MicroBarrio, and_(MicroBarrio.id == C.micro_barrio_id))
        .where(*where)
        .subquery()
    )
    rows = session.execute(
        select(inner.c.area, inner.c.bin, func.count()).group_by(inner.c.area, inner.c.bin)
    )
    table: dict[str, np.ndarray] = {
        name: np.zeros(bins, dtype=int) for name in (TREATED, RING, *units)
    }
    for name, b, n in rows:
        if name in table and 0 <= int(b) < bins:
            table[name][int(b)] += int(n)
    return BinnedCounts(
        treated=table.pop(TREATED), ring=table.pop(RING), units=dict(sorted(table.items()))
    )
