"""Intervention projects that resolve risk factors (lighting, pruning, community alarms)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app.api.deps import SessionDep, require_roles
from app.api.params import ComunaFilter
from app.api.schemas import problem_responses
from app.identity.caller import Caller
from app.models import Role
from app.reports import evaluation
from app.reports.schemas import EvaluationRead
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


@router.get(
    "/{project_id}/evaluation",
    operation_id="evaluateProject",
    response_model=EvaluationRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def evaluate_project(
    session: SessionDep,
    _: ReaderDep,
    project_id: ProjectId,
    radius_m: Annotated[
        int, Query(description="Distancia a los factores del proyecto, en metros (25-2000).")
    ] = 300,
    window_days: Annotated[
        int, Query(description="Días de cada ventana, antes y después del término (14-730).")
    ] = 180,
    family: Annotated[
        str | None, Query(max_length=10, description="Solo esta familia de delitos (código).")
    ] = None,
) -> EvaluationRead:
    """Denuncias antes y después de un proyecto terminado, frente a áreas de comparación."""
    result = evaluation.evaluate_project(
        session,
        project_id,
        radius_m=radius_m,
        window_days=window_days,
        family=family,
        as_of=datetime.now(UTC),
    )
    return EvaluationRead.model_validate(result, from_attributes=True)
