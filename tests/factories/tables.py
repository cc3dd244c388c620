"""Factories for the report tests: complaints and risk factors with chosen dates and a
history, written straight to the tables (the API would stamp them with the current time).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from geoalchemy2 import WKTElement
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    Barrio,
    Complaint,
    ComplaintSource,
    InterventionProject,
    LocationPrecision,
    MicroBarrio,
    ProjectStatus,
    ReportStatus,
    ReportTransition,
    RiskFactorReport,
    RiskFactorType,
    Typology,
)
from app.models.base import SRID

COMUNA = "14103"


def _point(lon: float, lat: float) -> WKTElement:
    return WKTElement(f"POINT({lon} {lat})", srid=SRID)


def _place(session: Session, lon: float, lat: float) -> tuple[int | None, int | None]:
    pt = func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID)
    micro = session.execute(
        select(MicroBarrio.id, MicroBarrio.barrio_id)
        .where(func.ST_Covers(MicroBarrio.geom, pt))
        .order_by(MicroBarrio.code)
        .limit(1)
    ).first()
    if micro:
        return micro.barrio_id, micro.id
    barrio = session.scalar(
        select(Barrio.id).where(func.ST_Covers(Barrio.geom, pt)).order_by(Barrio.code).limit(1)
    )
    return barrio, None


def make_complaint(
    session: Session,
    *,
    occurred_at: datetime,
    lon: float,
    lat: float,
    category: str = "556",
    received_at: datetime | None = None,
    precision: LocationPrecision = LocationPrecision.EXACT,
) -> Complaint:
    barrio_id, micro_id = _place(session, lon, lat)
    complaint = Complaint(
        comuna_code=COMUNA,
        category_code=category,
        taxonomy_version="cead-2024",
        occurred_at=occurred_at,
        geom=_point(lon, lat),
        location_precision=precision,
        source=ComplaintSource.MUNICIPAL,
        external_ref=f"T-{uuid.uuid4().hex[:12]}",
        barrio_id=barrio_id,
        micro_barrio_id=micro_id,
        loaded_by="prueba",
    )
    # Received the next day unless said otherwise (the column's default is "now").
    complaint.received_at = received_at or occurred_at + timedelta(days=1)
    session.add(complaint)
    return complaint


def make_factor(
    session: Session,
    *,
    type_code: str,
    lon: float,
    lat: float,
    received_at: datetime,
    history: Sequence[tuple[ReportStatus, datetime]] = (),
    responsible_unit: str | None = None,
    project_id: int | None = None,
    institution: str = "carabineros",
) -> RiskFactorReport:
    """A report received at `received_at`, then moved through `history` (status, when)."""
    type_ = session.scalars(select(RiskFactorType).where(RiskFactorType.code == type_code)).one()
    barrio_id, micro_id = _place(session, lon, lat)
    steps = [(ReportStatus.REPORTADO, received_at), *history]
    final = steps[-1][0]
    report = RiskFactorReport(
        id=uuid.uuid4(),
        comuna_code=COMUNA,
        type_id=type_.id,
        status=final,
        severity=3,
        geom=_point(lon, lat),
        observed_at=received_at,
        received_at=received_at,
        institution=institution,
        responsible_unit=responsible_unit,
        barrio_id=barrio_id,
        micro_barrio_id=micro_id,
        project_id=project_id,
        resolved_at=steps[-1][1] if final == ReportStatus.RESUELTO else None,
    )
    session.add(report)
    session.flush()
    previous = None
    for status, at in steps:
        session.add(
            ReportTransition(
                comuna_code=COMUNA,
                report_id=report.id,
                from_status=previous,
                to_status=status,
                at=at,
                actor_role="admin",
            )
        )
        previous = status
    session.flush()
    return report


def make_resolved_history(
    validated: datetime, routed: datetime, resolved: datetime
) -> list[tuple[ReportStatus, datetime]]:
    return [
        (ReportStatus.VALIDADO, validated),
        (ReportStatus.DERIVADO, routed),
        (ReportStatus.EN_GESTION, routed),
        (ReportStatus.RESUELTO, resolved),
    ]


def make_project(
    session: Session,
    *,
    name: str,
    status: ProjectStatus,
    start: date | None,
    end: date | None,
    typology: Typology = Typology.IL,
) -> InterventionProject:
    project = InterventionProject(
        comuna_code=COMUNA,
        name=name,
        typology=typology,
        status=status,
        start_date=start,
        end_date=end,
    )
    session.add(project)
    session.flush()
    return project
