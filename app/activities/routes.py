"""Prevention activities' routes: kinds, record, import (CSV/XLSX), evidence, indicators.
The executive secretary / municipal security staff write with an admin key; planners read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.activities import importer, service
from app.activities import summary as summaries
from app.activities.catalog import kinds
from app.activities.schemas import (
    ActivityBody,
    ActivityIndicatorsRead,
    ActivityKindRead,
    ActivityRead,
)
from app.api.deps import SessionDep, require_roles
from app.api.params import ComunaChoice, ComunaFilter
from app.api.schemas import problem_responses
from app.complaints.ingest import ImportMode
from app.complaints.schemas import ImportReportRead, problems_out
from app.council.documents import read_document
from app.errors import NotFound
from app.identity.caller import Caller
from app.models import Role
from app.reports.period import year_period

router = APIRouter(prefix="/activities", tags=["actividades de prevención"])

StaffDep = Annotated[Caller, Depends(require_roles())]  # admin: municipal security staff
ReaderDep = Annotated[Caller, Depends(require_roles(Role.PLANNER))]
ActivityId = Annotated[int, Path(description="Identificador de la actividad.")]


@router.get(
    "/kinds",
    operation_id="listActivityKinds",
    response_model=list[ActivityKindRead],
    responses=problem_responses(401, 403),
)
def list_kinds(_: ReaderDep) -> list[ActivityKindRead]:
    """Tipos de actividad y la meta del plan a la que aporta cada uno."""
    return [ActivityKindRead(code=k.code, label=k.label, goal=k.goal) for k in kinds().values()]


@router.post(
    "",
    operation_id="createActivity",
    response_model=ActivityRead,
    status_code=201,
    responses=problem_responses(401, 403, 422),
)
def create_activity(session: SessionDep, caller: StaffDep, data: ActivityBody) -> ActivityRead:
    """Registra una actividad (asistencia solo como cifras por sexo y tramo de edad)."""
    activity = service.create_activity(session, data, recorded_by=caller.actor)
    return service.read_activities(session, [activity])[0]


@router.get(
    "",
    operation_id="listActivities",
    response_model=list[ActivityRead],
    responses=problem_responses(401, 403, 422),
)
def list_activities(
    session: SessionDep,
    _: ReaderDep,
    comuna: ComunaFilter = None,
    goal: Annotated[str | None, Query(max_length=20, description="Solo esta meta.")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Solo este año.")] = None,
) -> list[ActivityRead]:
    """Actividades de prevención, la más reciente primero."""
    return service.list_activities(session, comuna, goal=goal, year=year)


@router.post(
    "/import",
    operation_id="importActivities",
    response_model=ImportReportRead,
    responses=problem_responses(401, 403, 413, 422),
)
async def import_activities(
    session: SessionDep,
    caller: StaffDep,
    file: Annotated[UploadFile, File(description="Planilla CSV (UTF-8) o XLSX (primera hoja).")],
    mode: Annotated[
        ImportMode,
        Query(description="all-or-nothing (una fila mala rechaza todo) o skip-invalid."),
    ] = ImportMode.ALL_OR_NOTHING,
    comuna: ComunaChoice = None,
) -> ImportReportRead:
    """Importa actividades desde una planilla, fila por fila (ver docs: columnas)."""
    head = await file.read(4)
    await file.seek(0)
    fmt = importer.sniff_format(head, file.filename)
    report = await run_in_threadpool(
        lambda: importer.import_activities(
            session, file.file, fmt=fmt, mode=mode, comuna=comuna, recorded_by=caller.actor
        )
    )
    return ImportReportRead(
        rows=report.rows,
        inserted=report.inserted,
        updated=0,
        unchanged=0,
        rejected=report.rejected,
        errors=problems_out(report.errors),
        errors_omitted=report.errors_omitted,
    )


@router.get(
    "/indicators",
    operation_id="getActivityIndicators",
    response_model=ActivityIndicatorsRead,
    responses=problem_responses(401, 403, 422),
)
def indicators(
    session: SessionDep,
    _: ReaderDep,
    year: Annotated[int, Query(ge=2000, le=2100, description="Año (hora de Chile).")],
    comuna: ComunaChoice = None,
) -> ActivityIndicatorsRead:
    """Realizadas frente a programadas por meta, asistencia y cobertura de barrios críticos."""
    return summaries.indicators_read(session, comuna, year_period(year))


@router.get(
    "/{activity_id:int}",
    operation_id="getActivity",
    response_model=ActivityRead,
    responses=problem_responses(401, 403, 404),
)
def get_activity(session: SessionDep, _: ReaderDep, activity_id: ActivityId) -> ActivityRead:
    """Una actividad con su asistencia."""
    return service.read_activities(session, [service.get_activity(session, activity_id)])[0]


@router.put(
    "/{activity_id:int}/evidence",
    operation_id="putActivityEvidence",
    response_model=ActivityRead,
    responses=problem_responses(401, 403, 404, 413, 422),
)
def put_evidence(
    session: SessionDep,
    _: StaffDep,
    activity_id: ActivityId,
    file: Annotated[UploadFile, File(description="Lista de asistencia o foto: PDF, PNG o JPEG.")],
) -> ActivityRead:
    """Guarda el medio de verificación de la actividad (reemplaza el anterior)."""
    activity = service.store_evidence(session, activity_id, read_document(file.file, file.filename))
    return service.read_activities(session, [activity])[0]


@router.get(
    "/{activity_id:int}/evidence",
    operation_id="getActivityEvidence",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}},
        **problem_responses(401, 403, 404),
    },
)
def get_evidence(session: SessionDep, _: ReaderDep, activity_id: ActivityId) -> Response:
    """El medio de verificación guardado, tal como se subió."""
    activity = service.get_activity(session, activity_id)
    if activity.evidence is None:
        raise NotFound(
            "La actividad no tiene medio de verificación.", code="evidencia_no_encontrada"
        )
    return Response(
        activity.evidence,
        media_type=activity.evidence_type,
        headers={"Content-Disposition": f'attachment; filename="evidencia-{activity.id}"'},
    )
