"""Moving a report through its lifecycle: rules from `lifecycle`, history, notifications."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.errors import Conflict, Forbidden, InvalidInput
from app.identity.caller import Caller
from app.models import (
    ReportStatus,
    ReportTransition,
    RiskFactorReport,
    RiskFactorType,
    Role,
)
from app.risk_factors import lifecycle
from app.risk_factors.field_reports import (
    actor_columns,
    check_if_match,
    load_visible,
    project_for,
    read_report,
)
from app.risk_factors.schemas import TransitionCreate
from app.risk_factors.webhooks import service as webhooks

S = ReportStatus


def _problem(field: str, reason: str, detail: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"field": field, "location": "body", "reason": reason}])


def _apply_side_effects(
    session: Session, report: RiskFactorReport, data: TransitionCreate, now: datetime
) -> dict[str, Any]:
    """Per-target bookkeeping; returns what the timeline should remember."""
    details: dict[str, Any] = {}
    target = data.to
    if target == S.DERIVADO:
        rtype = session.get_one(RiskFactorType, report.type_id)
        report.responsible_unit = (
            data.responsible_unit or report.responsible_unit or (rtype.default_unit)
        )
        details["responsible_unit"] = report.responsible_unit
    if target == S.EN_GESTION and data.project_id is not None:
        report.project_id = project_for(session, report, data.project_id)
        details["project_id"] = report.project_id
    elif data.project_id is not None:
        raise _problem(
            "project_id",
            "solo al pasar a en_gestion",
            "Un proyecto se asocia al pasar el informe a en_gestion.",
        )
    if target == S.DUPLICADO:
        if data.duplicate_of is None or data.duplicate_of == report.id:
            raise _problem(
                "duplicate_of",
                "obligatorio: el id del informe que se conserva",
                "Indique de qué informe es duplicado.",
            )
        original = session.get(RiskFactorReport, data.duplicate_of)
        if original is None or original.comuna_code != report.comuna_code:
            raise _problem("duplicate_of", "informe inexistente", "El informe original no existe.")
        report.duplicate_of_id = original.id
        details["duplicate_of"] = str(original.id)
    elif data.duplicate_of is not None:
        raise _problem("duplicate_of", "solo al marcar duplicado", "duplicate_of no corresponde.")
    if data.responsible_unit is not None and target != S.DERIVADO:
        raise _problem("responsible_unit", "solo al derivar", "responsible_unit no corresponde.")
    report.resolved_at = now if target == S.RESUELTO else None
    return details


def transition(
    session: Session,
    report_id: uuid.UUID,
    caller: Caller,
    data: TransitionCreate,
    *,
    if_match: str | None,
    now: datetime | None = None,
) -> RiskFactorReport:
    now = now or datetime.now(UTC)
    report = load_visible(session, report_id, caller, for_update=True)
    if caller.role is None or not lifecycle.role_may_move(caller.role, data.to):
        raise Forbidden(f"El rol {caller.role} no puede pasar un informe a {data.to.value}.")
    if caller.role == Role.UNIT and report.responsible_unit != caller.unit:
        raise Forbidden("El informe no está derivado a su unidad.")
    check_if_match(if_match, report.version)
    current = report.status
    if not lifecycle.is_allowed(current, data.to):
        raise Conflict(
            f"No se puede pasar de {current.value} a {data.to.value}; desde {current.value} "
            f"se permite: {lifecycle.describe_allowed(current)}.",
            code="transicion_no_permitida",
            current_status=current.value,
            allowed=sorted(t.value for t in lifecycle.ALLOWED[current]),
        )
    details = _apply_side_effects(session, report, data, now)
    reopened = lifecycle.is_reopening(current, data.to)
    if reopened:
        details["reopened"] = True
    report.status = data.to
    session.add(
        ReportTransition(
            comuna_code=report.comuna_code,
            report_id=report.id,
            from_status=current,
            to_status=data.to,
            at=now,
            note=data.note,
            details=details,
            **actor_columns(caller),
        )
    )
    session.flush()
    audit.record(
        session,
        "risk_factor.transition",
        "risk_factor",
        report.id,
        detail={"from": current.value, "to": data.to.value},
    )
    _notify(session, report, caller, current, data, reopened=reopened, now=now)
    return report


def _notify(
    session: Session,
    report: RiskFactorReport,
    caller: Caller,
    previous: ReportStatus,
    data: TransitionCreate,
    *,
    reopened: bool,
    now: datetime,
) -> None:
    event = {
        S.DERIVADO: "factor.reabierto" if reopened else "factor.derivado",
        S.EN_GESTION: "factor.en_gestion",
        S.RESUELTO: "factor.resuelto",
    }.get(data.to)
    if event is None:
        return
    # the mover still sees the report: only admins (who see all) change its unit
    body = read_report(session, report.id, caller, now=now).model_dump(mode="json")
    for private in ("officer_id", "photos", "timeline", "possible_duplicates"):
        body.pop(private, None)
    webhooks.enqueue(
        session,
        comuna=report.comuna_code,
        unit=report.responsible_unit,
        event=event,
        report_id=report.id,
        payload={
            "transition": {"from": previous.value, "to": data.to.value, "at": now.isoformat()},
            "report": body,
        },
        now=now,
    )
