"""Risk-terrain models: compute and store one, read it back (JSON or the factor table as CSV).

Sync routes on purpose: the fit (statsmodels, glum, esda) is CPU work that must not block
the event loop; FastAPI runs them in its thread pool.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from app.api.deps import SessionDep, require_roles
from app.api.schemas import problem_responses
from app.identity.caller import Caller
from app.models import Role
from app.risk_terrain import service, store
from app.risk_terrain.schemas import RiskTerrainCreate, RiskTerrainRead

router = APIRouter(prefix="/risk-terrain", tags=["risk-terrain"])

ComputerDep = Annotated[Caller, Depends(require_roles(Role.PLANNER))]
ReaderDep = Annotated[Caller, Depends(require_roles(Role.PLANNER, Role.POLICE, Role.UNIT))]
SnapshotId = Annotated[uuid.UUID, Path(description="Identificador del modelo (UUID).")]
Format = Annotated[
    Literal["json", "csv"],
    Query(description="json (el modelo completo) o csv (la tabla de factores)."),
]

_FORMATS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "El modelo en el formato pedido.",
    }
}


@router.post(
    "",
    operation_id="computeRiskTerrain",
    status_code=201,
    response_model=RiskTerrainRead,
    responses=problem_responses(401, 403, 422),
)
def compute(body: RiskTerrainCreate, session: SessionDep, caller: ComputerDep) -> RiskTerrainRead:
    """Ajusta y guarda un modelo de terreno de riesgo reproducible (roles planner, admin)."""
    request = service.Request(**body.model_dump())
    snapshot = service.compute_snapshot(session, request, computed_by=caller.actor)
    return RiskTerrainRead.model_validate(store.snapshot_document(session, snapshot))


@router.get(
    "/{snapshot_id}",
    operation_id="getRiskTerrain",
    response_model=RiskTerrainRead,
    responses={**_FORMATS, **problem_responses(401, 403, 404, 422)},
)
def read(
    snapshot_id: SnapshotId, session: SessionDep, caller: ReaderDep, format: Format = "json"
) -> Response:
    """Un modelo guardado: factores con su riesgo relativo e intervalo, celdas principales."""
    snapshot = store.get_snapshot(session, snapshot_id)
    if format == "csv":
        filename = f"terreno-de-riesgo-{snapshot.comuna_code}-{snapshot.id}.csv"
        return Response(
            store.factors_csv(snapshot),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    document = RiskTerrainRead.model_validate(store.snapshot_document(session, snapshot))
    return JSONResponse(document.model_dump(mode="json"))
