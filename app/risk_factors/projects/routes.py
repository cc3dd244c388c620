"""Intervention projects that resolve risk factors (lighting, pruning, community alarms)."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app.api.deps import SessionDep, require_roles
from app.api.params import ComunaFilter
from app.api.schemas import problem_responses
from app.identity.caller import Caller
from app.models import Role
from app.reports import evaluation, evaluation_store
from app.reports.schemas import EvaluationRead, StoredEvaluationRead
from app.risk_factors.projects import service as projects
from app.risk_factors.schemas import ProjectCreate, ProjectRead, ProjectUpdate

router = APIRouter(prefix="/projects", tags=["proyectos de intervención"])

PlannerDep = Annotated[Caller, Depends(require_roles(Role.PLANNER))]
ReaderDep = Annotated[Caller, Depends(require_roles(Role.PLANNER, Role.UNIT, Role.POLICE))]
ProjectId = Annotated[int, Path(description="Identificador del proyecto.")]


@router.post(
    "",
    operation_id="createProject",
    response_model=ProjectRead,
    status_code=201,
    responses=problem_responses(401, 403, 422),
)
def create_project(session: SessionDep, _: PlannerDep, data: ProjectCreate) -> ProjectRead:
    """Crea un proyecto de intervención (planificación o administración)."""
    return projects.read_project(session, projects.create_project(session, data).id)


@router.get(
    "",
    operation_id="listProjects",
    response_model=list[ProjectRead],
    responses=problem_responses(401, 403, 422),
)
def list_projects(
    session: SessionDep,
    _: ReaderDep,
    comuna: ComunaFilter = None,
) -> list[ProjectRead]:
    """Proyectos con sus factores asociados y el estado de cada uno."""
    return projects.list_projects(session, comuna)


@router.get(
    "/{project_id}",
    operation_id="getProject",
    response_model=ProjectRead,
    responses=problem_responses(401, 403, 404),
)
def get_project(session: SessionDep, _: ReaderDep, project_id: ProjectId) -> ProjectRead:
    """Un proyecto con sus factores y su estado."""
    return projects.read_project(session, project_id)


@router.patch(
    "/{project_id}",
    operation_id="updateProject",
    response_model=ProjectRead,
    responses=problem_responses(401, 403, 404, 422),
)
def update_project(
    session: SessionDep, _: PlannerDep, project_id: ProjectId, data: ProjectUpdate
) -> ProjectRead:
    """Actualiza estado, fechas, barrios o presupuesto de un proyecto."""
    projects.update_project(session, project_id, data)
    return projects.read_project(session, project_id)


class EvaluationParams:
    """The evaluation's query parameters, one definition for GET and POST."""

    def __init__(
        self,
        radius_m: Annotated[
            int,
            Query(description="Radio del área intervenida en torno a los factores (25-2000 m)."),
        ] = 300,
        catchment_m: Annotated[
            int, Query(description="Ancho del anillo de entorno (desplazamiento), 50-2000 m.")
        ] = 300,
        window_days: Annotated[
            int,
            Query(
                description=f"Días de cada ventana, antes y después del término "
                f"({evaluation.MIN_WINDOW_DAYS}-{evaluation.MAX_WINDOW_DAYS}); nunca se acorta."
            ),
        ] = evaluation.DEFAULT_WINDOW_DAYS,
        category: Annotated[
            list[str] | None,
            Query(
                max_length=30,
                description="Categorías de delito (código, repetible); por defecto, las de la "
                "tipología del proyecto (data/intervention_crimes.csv).",
            ),
        ] = None,
        hours: Annotated[
            str | None,
            Query(description="noche o todas; por defecto, noche para iluminación (IL)."),
        ] = None,
        terrain_id: Annotated[
            uuid.UUID | None,
            Query(
                description="Modelo de terreno de riesgo (id) cuyas celdas son el área "
                "intervenida, en vez del radio en torno a los factores; de la misma comuna y "
                "ajustado con denuncias anteriores al término del proyecto."
            ),
        ] = None,
        terrain_cells: Annotated[
            str | None,
            Query(
                description="Con terrain_id: top_5, top_10 (por defecto) o top_20 (las celdas "
                "de mayor riesgo) o proyecto (las que toca el área del proyecto)."
            ),
        ] = None,
    ) -> None:
        self.request = evaluation.EvaluationRequest(
            radius_m=radius_m,
            catchment_m=catchment_m,
            window_days=window_days,
            categories=tuple(category) if category else None,
            hours=hours,
            terrain_id=terrain_id,
            terrain_cells=terrain_cells,
        )


EvaluationParamsDep = Annotated[EvaluationParams, Depends()]
EvaluationId = Annotated[uuid.UUID, Path(description="Identificador de la evaluación guardada.")]


@router.get(
    "/{project_id}/evaluation",
    operation_id="evaluateProject",
    response_model=EvaluationRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def evaluate_project(
    session: SessionDep, _: ReaderDep, project_id: ProjectId, params: EvaluationParamsDep
) -> EvaluationRead:
    """Efecto de un proyecto terminado: diferencias en diferencias, entorno y veredicto."""
    return evaluation.evaluate_project(session, project_id, params.request, as_of=datetime.now(UTC))


@router.post(
    "/{project_id}/evaluations",
    operation_id="storeProjectEvaluation",
    response_model=StoredEvaluationRead,
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def store_evaluation(
    session: SessionDep, caller: PlannerDep, project_id: ProjectId, params: EvaluationParamsDep
) -> StoredEvaluationRead:
    """Evalúa y guarda la evaluación (entradas, huella y versión) para citarla."""
    return evaluation_store.store_evaluation(
        session, project_id, params.request, as_of=datetime.now(UTC), computed_by=caller.actor
    )


@router.get(
    "/{project_id}/evaluations/{evaluation_id}",
    operation_id="getProjectEvaluation",
    response_model=StoredEvaluationRead,
    responses=problem_responses(401, 403, 404),
)
def get_evaluation(
    session: SessionDep, _: ReaderDep, project_id: ProjectId, evaluation_id: EvaluationId
) -> StoredEvaluationRead:
    """Una evaluación guardada, tal como se calculó."""
    return evaluation_store.get_evaluation(session, project_id, evaluation_id)
