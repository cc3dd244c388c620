"""The audit trail, for administrators."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.api.deps import SessionDep, require_roles
from app.api.schemas import problem_responses
from app.api.strict import IsoDatetime
from app.audit import trail as audit
from app.audit.schemas import AuditEventRead, AuditVerificationRead
from app.identity.caller import Caller
from app.models import Role

router = APIRouter(prefix="/audit", tags=["auditoría"])

AdminDep = Annotated[Caller, Depends(require_roles(Role.ADMIN))]


@router.get(
    "",
    operation_id="listAuditEvents",
    response_model=list[AuditEventRead],
    responses=problem_responses(401, 403, 422),
)
def list_audit_events(
    session: SessionDep,
    _: AdminDep,
    action: Annotated[str | None, Query(max_length=60, description="Acción exacta.")] = None,
    actor: Annotated[str | None, Query(max_length=250, description="Actor exacto.")] = None,
    object_type: Annotated[str | None, Query(max_length=60)] = None,
    object_id: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[IsoDatetime | None, Query(description="Desde (incluido), ISO 8601.")] = None,
    until: Annotated[IsoDatetime | None, Query(description="Hasta (excluido), ISO 8601.")] = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=2**62, description="Página siguiente: id menor que este.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Máximo de eventos.")] = 100,
) -> list[AuditEventRead]:
    """Eventos de auditoría, del más reciente al más antiguo (solo administradores)."""
    flt = audit.AuditFilter(
        action=action,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
        before_id=before_id,
    )
    events = [
        AuditEventRead.model_validate(e) for e in audit.list_events(session, flt, limit=limit)
    ]
    audit.record(session, "audit.read", "audit_event", detail={"returned": len(events)})
    return events


@router.get(
    "/verify",
    operation_id="verifyAuditTrail",
    response_model=AuditVerificationRead,
    responses=problem_responses(401, 403),
)
def verify_audit_trail(session: SessionDep, _: AdminDep) -> AuditVerificationRead:
    """Recalcula la cadena de hashes, revisa sellos y anclas; indica el primer eslabón roto."""
    result = audit.verify(session)
    return AuditVerificationRead(
        checked=result.checked,
        ok=result.ok,
        first_broken_id=result.first_broken_id,
        reason=result.reason,
        sealed=result.sealed,
        anchors=result.anchors,
        notes=list(result.notes),
    )
