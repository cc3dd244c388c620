"""Listing reports as GeoJSON (built in PostGIS) and the statistics the council asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, Select, cast, extract, func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from app.errors import InvalidInput
from app.geojson import feature, feature_collection
from app.identity.caller import Caller
from app.models import Barrio, MicroBarrio, ReportStatus, RiskFactorReport, RiskFactorType
from app.models.base import SRID
from app.risk_factors.field_reports import due_at, overdue, visible_to
from app.risk_factors.lifecycle import LABELS, OPEN_STATUSES
from app.risk_factors.schemas import RiskFactorStats, StatsGroup

R = RiskFactorReport
T = RiskFactorType
Micro = aliased(MicroBarrio)


@dataclass(frozen=True)
class ReportFilter:
    comuna: str | None = None
    types: tuple[str, ...] = ()
    statuses: tuple[ReportStatus, ...] = ()
    overdue: bool | None = None
    unit: str | None = None
    barrio: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    received_from: date | None = None
    received_to: date | None = None
    mine: bool = False  # only the reports the calling key submitted


MINE_NEEDS_KEY = "mis_informes_sin_clave"


def submitted_by(caller: Caller) -> ColumnElement[bool]:
    """The reports the caller's key submitted. A token has no key: the reports it could call
    its own are not recorded as its own (a token cannot submit, app/risk_factors/submission.py),
    so asking is bad input, not an empty list."""
    if caller.key_id is None:
        reason = "solo con una clave de Vigía: un token OIDC no envía informes de terreno"
        raise InvalidInput(
            "«Mis informes» (mine=true) necesita una clave de Vigía: los informes de un "
            "funcionario se reconocen por la clave con que los envió.",
            errors=[{"field": "mine", "location": "query", "reason": reason}],
            code=MINE_NEEDS_KEY,
        )
    return R.reporter_key_id == caller.key_id


def _conditions(flt: ReportFilter, caller: Caller, now: datetime) -> list[ColumnElement[bool]]:
    # "mine" narrows what the caller may see, never widens it: a key moved to another
    # institution does not keep seeing its old institution's reports
    where: list[ColumnElement[bool]] = [visible_to(caller)]
    if flt.mine:
        where.append(submitted_by(caller))
    if flt.comuna:
        where.append(R.comuna_code == flt.comuna)
    if flt.types:
        where.append(T.code.in_(flt.types))
    if flt.statuses:
        where.append(R.status.in_(flt.statuses))
    if flt.overdue is not None:
        where.append(overdue(now) if flt.overdue else ~overdue(now))
    if flt.unit:
        where.append(R.responsible_unit == flt.unit)
    if flt.barrio:
        where.append(Barrio.code == flt.barrio)
    if flt.bbox:
        envelope = func.ST_MakeEnvelope(*flt.bbox, SRID)
        where.append(func.ST_Intersects(R.geom, envelope))
    # Dates are calendar days in UTC, inclusive at both ends.
    if flt.received_from:
        where.append(R.received_at >= datetime.combine(flt.received_from, time.min))
    if flt.received_to:
        end = datetime.combine(flt.received_to + timedelta(days=1), time.min)
        where.append(R.received_at < end)
    return where


def _base(select_: Select[Any]) -> Select[Any]:
    return (
        select_.join(T, T.id == R.type_id)
        .outerjoin(Barrio, Barrio.id == R.barrio_id)
        .outerjoin(Micro, Micro.id == R.micro_barrio_id)
    )


def reports_geojson(
    session: Session, caller: Caller, flt: ReportFilter, *, now: datetime, limit: int
) -> str:
    """Exact geometries: only for the roles `visible_to` lets through."""
    stmt = (
        _base(
            select(
                feature(
                    id_=R.id,
                    geom=func.ST_ForcePolygonCCW(R.geom),
                    properties={
                        "type": T.code,
                        "type_label": T.label,
                        "typology": T.typology,
                        "status": R.status,
                        "severity": R.severity,
                        "comuna": R.comuna_code,
                        "barrio": Barrio.code,
                        "micro_barrio": Micro.code,
                        "responsible_unit": R.responsible_unit,
                        "institution": R.institution,
                        "observed_at": R.observed_at,
                        "received_at": R.received_at,
                        "due_at": due_at(),
                        "overdue": overdue(now),
                        "resolved_at": R.resolved_at,
                        "project_id": R.project_id,
                    },
                ).label("feature"),
                R.received_at.label("received_at"),
                R.id.label("id"),
            )
        )
        .where(*_conditions(flt, caller, now))
        .order_by(R.received_at.desc(), R.id)
        .limit(limit)
    )
    return session.execute(feature_collection(stmt, order_by="received_at")).scalar_one()


def _days_to_resolution() -> ColumnElement[Any]:
    return extract("epoch", R.resolved_at - R.received_at) / 86400.0


def _aggregates(now: datetime) -> list[Any]:
    resolved = R.status == ReportStatus.RESUELTO
    within = cast(R.resolved_at <= due_at(), Integer)
    return [
        func.count().label("total"),
        func.count().filter(R.status.in_(OPEN_STATUSES)).label("open"),
        func.count().filter(resolved).label("resolved"),
        func.count().filter(overdue(now)).label("overdue"),
        func.percentile_cont(0.5)
        .within_group(_days_to_resolution())
        .filter(resolved)
        .label("median_days"),
        func.avg(within).filter(resolved).label("share_within"),
    ]


def _group(row: Any, key: Any, label: Any) -> StatsGroup:
    median = row.median_days
    share = row.share_within
    return StatsGroup(
        key=None if key is None else str(key),
        label=label,
        total=row.total,
        open=row.open,
        resolved=row.resolved,
        overdue=row.overdue,
        median_days_to_resolution=None if median is None else round(float(median), 2),
        share_resolved_within_expected=None if share is None else round(float(share), 4),
    )


def stats(session: Session, caller: Caller, flt: ReportFilter, *, now: datetime) -> RiskFactorStats:
    where = _conditions(flt, caller, now)
    overall = session.execute(_base(select(*_aggregates(now)).select_from(R)).where(*where)).one()

    def grouped(key: Any, label: Any) -> list[Any]:
        stmt = (
            _base(select(key.label("key"), label.label("label"), *_aggregates(now)).select_from(R))
            .where(*where)
            .group_by(key, label)
            .order_by(key)
        )
        return list(session.execute(stmt))

    by_status = [_group(r, r.key.value, LABELS[r.key]) for r in grouped(R.status, R.status)]
    return RiskFactorStats(
        overall=_group(overall, None, "Total"),
        by_status=by_status,
        by_type=[_group(r, r.key, r.label) for r in grouped(T.code, T.label)],
        by_unit=[
            _group(r, r.key, r.label) for r in grouped(R.responsible_unit, R.responsible_unit)
        ],
        by_barrio=[_group(r, r.key, r.label) for r in grouped(Barrio.code, Barrio.name)],
    )
