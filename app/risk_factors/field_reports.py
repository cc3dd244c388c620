"""Field reports of risk factors: who sees which, reading one with its timeline, editing it.

Submitting a new one (strict, idempotent) is `submission`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Text, and_, cast, func, select
from sqlalchemy.orm import Session, aliased

from app.audit import trail as audit
from app.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from app.geojson import geometry_json
from app.identity.access import risk_factor_scope
from app.identity.caller import Caller
from app.models import (
    Barrio,
    InterventionProject,
    MicroBarrio,
    ReportPhoto,
    ReportTransition,
    RiskFactorReport,
    RiskFactorType,
    Role,
)
from app.risk_factors.attributes import validate_attributes
from app.risk_factors.lifecycle import OPEN_STATUSES
from app.risk_factors.schemas import (
    Actor,
    DuplicateCandidate,
    PhotoRead,
    RiskFactorRead,
    RiskFactorUpdate,
    TransitionRead,
    TypeRef,
    UnitRef,
)

R = RiskFactorReport
T = RiskFactorType

# --- visibility, deadlines, ETags ----------------------------------------------------------


def visible_to(caller: Caller) -> ColumnElement[bool]:
    """Which reports a caller may see (the rule lives in `app.identity.access`)."""
    return risk_factor_scope(caller)


def due_at() -> ColumnElement[datetime]:
    return R.received_at + func.make_interval(0, 0, 0, T.expected_days)


def overdue(now: datetime | ColumnElement[Any]) -> ColumnElement[bool]:
    return and_(R.status.in_(OPEN_STATUSES), due_at() < now)


def etag(version: int) -> str:
    return f'"v{version}"'


def if_match_passes(if_match: str, current: str) -> bool:
    """RFC 9110 13.1.1: `*` matches any current representation (the resource exists); else a
    listed entity-tag must equal `current` by strong comparison, so a weak `W/"v3"` never does.
    """
    tags = [t.strip() for t in if_match.split(",")]
    if tags == ["*"]:
        return True
    return current in tags  # `current` is strong; a weak tag keeps its W/ and cannot equal it


def check_if_match(if_match: str | None, version: int) -> None:
    """428 without If-Match, 412 when the tag is not the current one (called on a report that
    exists, so `*` passes)."""
    if not if_match:
        raise PreconditionRequired(
            "Para modificar un informe envíe la cabecera If-Match con el ETag que leyó "
            "(evita pisar cambios de otra persona)."
        )
    if not if_match_passes(if_match, etag(version)):
        raise PreconditionFailed(
            f"El informe cambió desde que se leyó (versión actual {etag(version)}); "
            "vuelva a leerlo y reintente.",
            current_etag=etag(version),
        )


# --- reading -----------------------------------------------------------------------------


def load_visible(
    session: Session, report_id: uuid.UUID, caller: Caller, *, for_update: bool = False
) -> RiskFactorReport:
    stmt = select(R).where(R.id == report_id, visible_to(caller))
    if for_update:
        stmt = stmt.with_for_update(of=R)
    report = session.scalar(stmt)
    if report is None:
        raise _not_found(report_id)
    return report


def _not_found(report_id: uuid.UUID) -> NotFound:
    # the same answer whether it does not exist or is not the caller's to see
    return NotFound(f"No existe el informe {report_id}.", code="informe_no_encontrado")


def read_report(
    session: Session,
    report_id: uuid.UUID,
    caller: Caller,
    *,
    now: datetime | None = None,
    duplicates: list[DuplicateCandidate] | None = None,
) -> RiskFactorRead:
    """The report with its photos and timeline, if the caller may see it (else 404)."""
    now = now or datetime.now(UTC)
    Micro = aliased(MicroBarrio)
    row = session.execute(
        select(
            R,
            T.code,
            T.label,
            T.typology,
            T.default_unit,
            Barrio.code,
            Barrio.name,
            Micro.code,
            Micro.name,
            cast(geometry_json(R.geom), Text),
            due_at(),
            overdue(now),
        )
        .join(T, T.id == R.type_id)
        .outerjoin(Barrio, Barrio.id == R.barrio_id)
        .outerjoin(Micro, Micro.id == R.micro_barrio_id)
        .where(R.id == report_id, visible_to(caller))
    ).one_or_none()
    if row is None:
        raise _not_found(report_id)
    (report, tcode, tlabel, typology, default_unit, bcode, bname, mcode, mname) = row[:9]
    geometry_text, due, is_overdue = row[9:]
    photos = session.execute(
        select(ReportPhoto.id, ReportPhoto.content_type, ReportPhoto.size_bytes)
        .add_columns(ReportPhoto.created_at)
        .where(ReportPhoto.report_id == report_id)
        .order_by(ReportPhoto.created_at, ReportPhoto.id)
    ).all()
    steps = session.scalars(
        select(ReportTransition)
        .where(ReportTransition.report_id == report_id)
        .order_by(ReportTransition.at, ReportTransition.id)
    ).all()
    return RiskFactorRead(
        id=report.id,
        comuna=report.comuna_code,
        type=TypeRef(code=tcode, label=tlabel, typology=typology),
        status=report.status,
        severity=report.severity,
        description=report.description,
        attributes=report.attributes,
        geometry=orjson.loads(geometry_text),
        observed_at=report.observed_at,
        received_at=report.received_at,
        institution=report.institution,
        reporting_unit=report.reporting_unit,
        officer_id=report.officer_id,
        responsible_unit=report.responsible_unit,
        suggested_unit=default_unit,
        barrio=UnitRef(code=bcode, name=bname) if bcode else None,
        micro_barrio=UnitRef(code=mcode, name=mname) if mcode else None,
        project_id=report.project_id,
        duplicate_of=report.duplicate_of_id,
        possible_duplicate_of=report.possible_duplicate_of_id,
        possible_duplicates=duplicates or [],
        due_at=due,
        overdue=is_overdue,
        resolved_at=report.resolved_at,
        version=report.version,
        photos=[
            PhotoRead(
                id=p.id,
                report_id=report_id,
                content_type=p.content_type,
                size_bytes=p.size_bytes,
                created_at=p.created_at,
            )
            for p in photos
        ],
        timeline=[
            TransitionRead(
                from_status=s.from_status,
                to_status=s.to_status,
                at=s.at,
                actor=Actor(
                    role=s.actor_role,
                    institution=s.actor_institution,
                    unit=s.actor_unit,
                    name=s.actor_name,
                ),
                note=s.note,
                details=s.details,
            )
            for s in steps
        ],
    )


def check_attributes(rtype: RiskFactorType, values: dict[str, Any]) -> None:
    problems = validate_attributes(rtype.attributes_schema, values)
    if problems:
        raise InvalidInput(
            f"Los atributos no corresponden al tipo {rtype.code!r}.", errors=problems
        )


def project_for(session: Session, report: RiskFactorReport, project_id: int) -> int:
    """The project a report may be linked to: one that exists in the report's comuna."""
    project = session.get(InterventionProject, project_id)
    if project is None or project.comuna_code != report.comuna_code:
        raise InvalidInput(
            "El proyecto no existe.",
            errors=[
                {
                    "field": "project_id",
                    "location": "body",
                    "reason": "proyecto inexistente en esta comuna",
                }
            ],
        )
    return project.id


def actor_columns(caller: Caller) -> dict[str, Any]:
    return {
        "actor_key_id": caller.key_id,
        "actor_role": caller.role.value if caller.role else None,
        "actor_institution": caller.institution,
        "actor_unit": caller.unit,
        "actor_name": caller.actor,
    }


# --- editing -----------------------------------------------------------------------------


def update_report(
    session: Session,
    report_id: uuid.UUID,
    caller: Caller,
    data: RiskFactorUpdate,
    *,
    if_match: str | None,
) -> RiskFactorReport:
    """Severity, description and attributes, by an admin or the key that submitted it; the
    project that resolves it, by an admin (municipal security links factors to projects)."""
    report = load_visible(session, report_id, caller, for_update=True)
    submitter = caller.key_id is not None and report.reporter_key_id == caller.key_id
    if caller.role != Role.ADMIN and not submitter:
        raise Forbidden("Solo quien envió el informe o un administrador puede editarlo.")
    changes = data.model_dump(exclude_unset=True)
    if "project_id" in changes and caller.role != Role.ADMIN:
        raise Forbidden("Solo un administrador asocia un informe a un proyecto.")
    check_if_match(if_match, report.version)
    if "project_id" in changes:
        project_id = changes["project_id"]
        report.project_id = None if project_id is None else project_for(session, report, project_id)
    if changes.get("attributes") is not None:
        rtype = session.get_one(RiskFactorType, report.type_id)
        check_attributes(rtype, changes["attributes"])
    for field in ("severity", "attributes"):
        if changes.get(field) is not None:
            setattr(report, field, changes[field])
    if "description" in changes:
        report.description = changes["description"]
    session.flush()
    audit.record(
        session, "risk_factor.update", "risk_factor", report.id, detail={"fields": sorted(changes)}
    )
    return report
