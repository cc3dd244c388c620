"""The SQL aggregations behind the reports: complaints per month, risk factors as they stood
at the end of a month, intervention projects, territory geometries.

Reproducibility: complaints count by `occurred_at` (month in Chile) among those received by
Vigía up to `as_of` (stored with every generated file); risk factors count with the status
they had at the end of the month, rebuilt from their transition history. Re-rendering a past
month with the same `as_of` gives the same numbers; with a later one, late-arriving
complaints may change them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Integer, and_, case, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.models import (
    Barrio,
    Complaint,
    Comuna,
    CrimeCategory,
    CrimeFamily,
    InterventionProject,
    ReportStatus,
    ReportTransition,
    RiskFactorReport,
    RiskFactorType,
)
from app.reports.period import Month
from app.risk_factors.lifecycle import OPEN_STATUSES
from app.timezone import local_month

R = RiskFactorReport
T = RiskFactorType
RT = ReportTransition
NO_UNIT = "Sin unidad asignada"


def month_key(column: Any) -> ColumnElement[str]:
    """'YYYY-MM' of a timestamp in Chile's calendar."""
    return local_month(column)


# --- complaints ------------------------------------------------------------------------------


def families(session: Session) -> list[tuple[str, str]]:
    return [
        (code, name)
        for code, name in session.execute(
            select(CrimeFamily.code, CrimeFamily.name).order_by(
                func.length(CrimeFamily.code), CrimeFamily.code
            )
        )
    ]


def barrios(session: Session, comuna: str) -> list[tuple[str, str]]:
    return [
        (code, name)
        for code, name in session.execute(
            select(Barrio.code, Barrio.name)
            .where(Barrio.comuna_code == comuna)
            .order_by(Barrio.code)
        )
    ]


def monthly_counts(
    session: Session,
    comuna: str,
    first: Month,
    last: Month,
    *,
    as_of: datetime,
    by: str,
    include_sensitive: bool = True,
) -> dict[tuple[str | None, str], int]:
    """{(family or barrio code, 'YYYY-MM'): count} for the months first..last (inclusive)."""
    group = {"family": CrimeCategory.family_code, "barrio": Barrio.code}[by]
    month = month_key(Complaint.occurred_at)
    stmt = (
        select(group.label("key"), month.label("month"), func.count().label("n"))
        .select_from(Complaint)
        .join(CrimeCategory, CrimeCategory.code == Complaint.category_code)
        .outerjoin(Barrio, Barrio.id == Complaint.barrio_id)
        .where(
            Complaint.comuna_code == comuna,
            Complaint.occurred_at >= first.start,
            Complaint.occurred_at < last.end,
            Complaint.received_at <= as_of,
        )
        .group_by(group, month)
    )
    if not include_sensitive:
        stmt = stmt.where(~CrimeCategory.sensitive)
    return {(row.key, row.month): row.n for row in session.execute(stmt)}


# --- risk factors ----------------------------------------------------------------------------


def status_at(end: datetime) -> Any:
    """Each report's status at `end`: its last transition before then."""
    return (
        select(RT.report_id.label("report_id"), RT.to_status.label("status"))
        .where(RT.at < end)
        .ext(distinct_on(RT.report_id))
        .order_by(RT.report_id, RT.at.desc(), RT.id.desc())
        .subquery("status_at_end")
    )


def _resolved_in(start: datetime, end: datetime) -> Any:
    """First resolution of each report within [start, end)."""
    return (
        select(RT.report_id.label("report_id"), func.min(RT.at).label("at"))
        .where(RT.to_status == ReportStatus.RESUELTO, RT.at >= start, RT.at < end)
        .group_by(RT.report_id)
        .subquery("resolved_in_month")
    )


@dataclass(frozen=True)
class UnitRow:
    unit: str
    opened: int
    resolved: int
    median_days: float | None
    open_at_end: int
    overdue_at_end: int


def risk_by_unit(session: Session, comuna: str, start: datetime, end: datetime) -> list[UnitRow]:
    """Per responsible unit (the current one; unrouted reports count under their type's
    default unit): opened and resolved in [start, end), open and overdue at `end`, median
    days from reception to resolution of those resolved in the span.
    """
    status = status_at(end)
    resolved = _resolved_in(start, end)
    current = func.coalesce(status.c.status, ReportStatus.REPORTADO)
    is_open = current.in_(OPEN_STATUSES)
    due = R.received_at + func.make_interval(0, 0, 0, T.expected_days)
    unit = func.coalesce(R.responsible_unit, T.default_unit).label("unit")
    days = func.extract("epoch", resolved.c.at - R.received_at) / 86400.0
    stmt = (
        select(
            unit,
            func.count().filter(R.received_at >= start).label("opened"),
            func.count(resolved.c.report_id).label("resolved"),
            func.percentile_cont(0.5).within_group(days).label("median_days"),
            func.count().filter(is_open).label("open_at_end"),
            func.count().filter(is_open, due < end).label("overdue_at_end"),
        )
        .select_from(R)
        .join(T, T.id == R.type_id)
        .outerjoin(status, status.c.report_id == R.id)
        .outerjoin(resolved, resolved.c.report_id == R.id)
        .where(R.comuna_code == comuna, R.received_at < end)
        .group_by(unit)
        .order_by(unit)
    )
    rows = []
    for r in session.execute(stmt):
        if not (r.opened or r.resolved or r.open_at_end):
            continue
        median = None if r.median_days is None else round(float(r.median_days), 1)
        rows.append(UnitRow(r.unit, r.opened, r.resolved, median, r.open_at_end, r.overdue_at_end))
    return rows


@dataclass(frozen=True)
class FactorPoint:
    lon: float
    lat: float
    state: str  # abierto | vencido | resuelto


def risk_points(session: Session, comuna: str, month: Month) -> list[FactorPoint]:
    """Where each factor is (a point on its surface) and how it stood at the month's end.

    Discarded and duplicate reports are left out; resolved ones only if resolved within the
    last 12 months, so the map shows what is current.
    """
    end = month.end
    status = status_at(end)
    current = func.coalesce(status.c.status, ReportStatus.REPORTADO)
    due = R.received_at + func.make_interval(0, 0, 0, T.expected_days)
    recent = _resolved_in(month.shift(-11).start, end)
    state = case(
        (and_(current.in_(OPEN_STATUSES), due < end), literal("vencido")),
        (current.in_(OPEN_STATUSES), literal("abierto")),
        else_=literal("resuelto"),
    )
    where = or_(current.in_(OPEN_STATUSES), recent.c.report_id.is_not(None))
    anchor = func.ST_PointOnSurface(R.geom)
    stmt = (
        select(func.ST_X(anchor), func.ST_Y(anchor), state)
        .select_from(R)
        .join(T, T.id == R.type_id)
        .outerjoin(status, status.c.report_id == R.id)
        .outerjoin(recent, recent.c.report_id == R.id)
        .where(R.comuna_code == comuna, R.received_at < end, where)
        .order_by(R.received_at, R.id)
    )
    return [FactorPoint(float(x), float(y), s) for x, y, s in session.execute(stmt)]


# --- projects --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectRow:
    id: int
    name: str
    typology: str
    status: str
    start_date: date | None
    end_date: date | None
    factors: int
    factors_resolved: int


def projects(session: Session, comuna: str, end: datetime) -> list[ProjectRow]:
    """Projects that existed at `end` (created, or started, before it), with their current
    status (projects keep no status history) and how many of their factors are resolved today.
    """
    resolved = cast(R.status == ReportStatus.RESUELTO, Integer)
    P = InterventionProject
    stmt = (
        select(
            P.id,
            P.name,
            P.typology,
            P.status,
            P.start_date,
            P.end_date,
            func.count(R.id),
            func.coalesce(func.sum(resolved), 0),
        )
        .outerjoin(R, R.project_id == P.id)
        .where(
            P.comuna_code == comuna,
            or_(P.created_at < end, P.start_date < end.date()),
        )
        .group_by(P.id)
        .order_by(P.status, P.end_date.desc().nulls_last(), P.id)
    )
    return [
        ProjectRow(i, n, t.value, s.value, sd, ed, int(f), int(fr))
        for i, n, t, s, sd, ed, f, fr in session.execute(stmt)
    ]


# --- territory -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitShape:
    code: str
    name: str
    geom: BaseGeometry


def barrio_shapes(session: Session, comuna: str) -> list[UnitShape]:
    rows = session.execute(
        select(Barrio.code, Barrio.name, func.ST_AsBinary(Barrio.geom))
        .where(Barrio.comuna_code == comuna)
        .order_by(Barrio.code)
    )
    return [UnitShape(c, n, shapely.from_wkb(bytes(g))) for c, n, g in rows]


def comuna_name(session: Session, comuna: str) -> str:
    return session.scalar(select(Comuna.name).where(Comuna.code == comuna)) or comuna


def group_series(
    counts: dict[tuple[str | None, str], int],
) -> dict[str | None, dict[str, int]]:
    series: dict[str | None, dict[str, int]] = defaultdict(dict)
    for (key, month), n in counts.items():
        series[key][month] = n
    return series
