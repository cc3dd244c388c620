"""The council registry's routes: seats, sessions, agreements, follow-ups, minutes, agenda
and indicators. The executive secretary writes with an admin key; planners read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, UploadFile
from fastapi.responses import Response

from app.api.deps import SessionDep, require_roles
from app.api.params import ComunaChoice, ComunaFilter
from app.api.schemas import problem_responses
from app.council import queries, service
from app.council import schemas as s
from app.council.documents import read_document
from app.errors import NotFound
from app.identity.caller import Caller
from app.models import Role
from app.models.council import AgreementStatus
from app.reports.period import year_period

router = APIRouter(prefix="/council", tags=["consejo comunal"])

SecretaryDep = Annotated[Caller, Depends(require_roles())]  # admin: the executive secretary
ReaderDep = Annotated[Caller, Depends(require_roles(Role.PLANNER))]
SessionId = Annotated[int, Path(description="Identificador de la sesión.")]
AgreementId = Annotated[int, Path(description="Identificador del compromiso.")]
YearQuery = Annotated[int, Query(ge=2000, le=2100, description="Año (hora de Chile).")]
SeatPath = Annotated[str, Path(max_length=40, description="Código del asiento.")]


@router.get(
    "/seats",
    operation_id="listCouncilSeats",
    response_model=list[s.SeatRead],
    responses=problem_responses(401, 403, 422),
)
def list_seats(session: SessionDep, _: ReaderDep, comuna: ComunaChoice = None) -> list[s.SeatRead]:
    """Asientos del Consejo (Ámbito I, Objetivo 1, Meta 2) y quién ocupa cada uno."""
    return queries.list_seats(session, comuna)


@router.put(
    "/seats/{seat}",
    operation_id="setCouncilMember",
    response_model=list[s.SeatRead],
    responses=problem_responses(401, 403, 404, 422),
)
def set_member(
    session: SessionDep, _: SecretaryDep, seat: SeatPath, data: s.MemberUpdate
) -> list[s.SeatRead]:
    """Designa o reemplaza al representante de un asiento."""
    member = service.set_member(session, seat, data)
    return queries.list_seats(session, member.comuna_code)


@router.post(
    "/sessions",
    operation_id="createCouncilSession",
    response_model=s.SessionRead,
    status_code=201,
    responses=problem_responses(401, 403, 422),
)
def create_session(
    session: SessionDep, caller: SecretaryDep, data: s.SessionCreate
) -> s.SessionRead:
    """Registra una sesión realizada: asistencia por asiento y compromisos acordados."""
    council = service.create_session(session, data, recorded_by=caller.actor)
    return queries.read_session(session, council.id)


@router.get(
    "/sessions",
    operation_id="listCouncilSessions",
    response_model=list[s.SessionRead],
    responses=problem_responses(401, 403, 422),
)
def list_sessions(
    session: SessionDep,
    _: ReaderDep,
    comuna: ComunaFilter = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Solo este año.")] = None,
) -> list[s.SessionRead]:
    """Sesiones, la más reciente primero, con asistencia, quórum y compromisos."""
    return queries.list_sessions(session, comuna, year)


@router.get(
    "/sessions/{session_id}",
    operation_id="getCouncilSession",
    response_model=s.SessionRead,
    responses=problem_responses(401, 403, 404),
)
def get_session(session: SessionDep, _: ReaderDep, session_id: SessionId) -> s.SessionRead:
    """Una sesión con su asistencia, quórum, acta y compromisos."""
    return queries.read_session(session, session_id)


@router.get(
    "/sessions/{session_id}/agenda",
    operation_id="getCouncilAgenda",
    response_model=s.AgendaRead,
    responses=problem_responses(401, 403, 404),
)
def get_agenda(session: SessionDep, _: ReaderDep, session_id: SessionId) -> s.AgendaRead:
    """Tabla de la sesión: compromisos anteriores abiertos, vencidos o por vencer."""
    return queries.agenda(session, session_id)


@router.put(
    "/sessions/{session_id}/minutes",
    operation_id="putCouncilMinutes",
    response_model=s.SessionRead,
    responses=problem_responses(401, 403, 404, 413, 422),
)
def put_minutes(
    session: SessionDep,
    _: SecretaryDep,
    session_id: SessionId,
    file: Annotated[UploadFile, File(description="Acta firmada: PDF, PNG o JPEG (10 MB).")],
) -> s.SessionRead:
    """Guarda el acta de la sesión (reemplaza la anterior; queda su huella SHA-256)."""
    service.store_minutes(session, session_id, read_document(file.file, file.filename))
    return queries.read_session(session, session_id)


@router.get(
    "/sessions/{session_id}/minutes",
    operation_id="getCouncilMinutes",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}},
        **problem_responses(401, 403, 404),
    },
)
def get_minutes(session: SessionDep, _: ReaderDep, session_id: SessionId) -> Response:
    """El acta guardada, tal como se subió."""
    council = service.get_session(session, session_id)
    if council.minutes is None:
        raise NotFound("La sesión no tiene acta guardada.", code="acta_no_encontrada")
    return Response(
        council.minutes,
        media_type=council.minutes_type,
        headers={"Content-Disposition": f'attachment; filename="acta-{council.id}"'},
    )


@router.post(
    "/sessions/{session_id}/agreements",
    operation_id="createCouncilAgreement",
    response_model=s.SessionRead,
    status_code=201,
    responses=problem_responses(401, 403, 404, 422),
)
def add_agreement(
    session: SessionDep, _: SecretaryDep, session_id: SessionId, data: s.AgreementCreate
) -> s.SessionRead:
    """Agrega un compromiso acordado en la sesión."""
    service.add_agreement(session, session_id, data)
    return queries.read_session(session, session_id)


@router.get(
    "/agreements",
    operation_id="listCouncilAgreements",
    response_model=list[s.AgreementRead],
    responses=problem_responses(401, 403, 422),
)
def list_agreements(
    session: SessionDep,
    _: ReaderDep,
    comuna: ComunaFilter = None,
    status: Annotated[AgreementStatus | None, Query(description="Solo este estado.")] = None,
    overdue: Annotated[bool | None, Query(description="Solo vencidos (true) o no.")] = None,
) -> list[s.AgreementRead]:
    """Compromisos del Consejo por plazo, con su estado y seguimiento."""
    return queries.list_agreements(session, comuna, status=status, overdue=overdue)


@router.post(
    "/agreements/{agreement_id}/follow-ups",
    operation_id="followUpCouncilAgreement",
    response_model=s.AgreementRead,
    status_code=201,
    responses=problem_responses(401, 403, 404, 422),
)
def follow_up(
    session: SessionDep, caller: SecretaryDep, agreement_id: AgreementId, data: s.FollowUpCreate
) -> s.AgreementRead:
    """Registra el seguimiento de un compromiso en una sesión y su nuevo estado."""
    agreement = service.follow_up(session, agreement_id, data, recorded_by=caller.actor)
    return queries.read_agreement(session, agreement.id)


@router.get(
    "/indicators",
    operation_id="getCouncilIndicators",
    response_model=s.CouncilIndicatorsRead,
    responses=problem_responses(401, 403, 422),
)
def indicators(
    session: SessionDep, _: ReaderDep, year: YearQuery, comuna: ComunaChoice = None
) -> s.CouncilIndicatorsRead:
    """Sesiones por mes, asistencia por institución y compromisos cumplidos a tiempo."""
    return queries.indicators_read(session, comuna, year_period(year))
