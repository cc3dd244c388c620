"""What the community sees: no exact point, no officer, no free text, month precision.

Locations are generalised to a fixed published geography (the micro-barrio, or the barrio
where there is none) by placing every factor on that unit's representative point, so
nothing about the exact spot can be recovered. Types marked non-public (drug-related) never
appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, case, func, literal, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from app.geojson import feature, feature_collection
from app.models import Barrio, MicroBarrio, ReportStatus, RiskFactorReport, RiskFactorType
from app.privacy.thresholds import PUBLIC_DECIMALS
from app.risk_factors.field_reports import overdue
from app.risk_factors.lifecycle import LABELS
from app.timezone import local_month

R = RiskFactorReport
T = RiskFactorType
Micro = aliased(MicroBarrio)


def generalised_point() -> ColumnElement[Any]:
    return func.ST_PointOnSurface(func.coalesce(Micro.geom, Barrio.geom))


def location_precision() -> ColumnElement[str]:
    return case((Micro.id.is_not(None), literal("micro_barrio")), else_=literal("barrio"))


def month(ts: Any) -> ColumnElement[str]:
    return local_month(ts)


def status_label() -> ColumnElement[str]:
    return case(
        *[(R.status == status, literal(label)) for status, label in LABELS.items()],
        else_=R.status.cast(String),
    )


def public_base(select_: Select[Any]) -> Select[Any]:
    return (
        select_.select_from(R)
        .join(T, T.id == R.type_id)
        .join(Barrio, Barrio.id == R.barrio_id)
        .outerjoin(Micro, Micro.id == R.micro_barrio_id)
        .where(T.public)
    )


@dataclass(frozen=True)
class PublicFilter:
    comuna: str | None = None
    types: tuple[str, ...] = ()
    statuses: tuple[ReportStatus, ...] = ()
    barrio: str | None = None


def public_geojson(session: Session, flt: PublicFilter, *, now: datetime, limit: int) -> str:
    stmt = public_base(
        select(
            feature(
                id_=R.id,
                geom=generalised_point(),
                precision=PUBLIC_DECIMALS,
                properties={
                    "type": T.code,
                    "type_label": T.label,
                    "typology": T.typology,
                    "status": R.status,
                    "status_label": status_label(),
                    "barrio": Barrio.code,
                    "micro_barrio": Micro.code,
                    "location_precision": location_precision(),
                    "reported_month": month(R.received_at),
                    "resolved_month": month(R.resolved_at),
                    "overdue": overdue(now),
                },
            ).label("feature"),
            R.received_at.label("received_at"),
        )
    )
    if flt.comuna:
        stmt = stmt.where(R.comuna_code == flt.comuna)
    if flt.types:
        stmt = stmt.where(T.code.in_(flt.types))
    if flt.statuses:
        stmt = stmt.where(R.status.in_(flt.statuses))
    if flt.barrio:
        stmt = stmt.where(Barrio.code == flt.barrio)
    stmt = stmt.order_by(R.received_at.desc(), R.id).limit(limit)
    return session.execute(feature_collection(stmt, order_by="received_at")).scalar_one()
