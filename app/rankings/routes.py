"""Rankings of critical barrios and micro-barrios: compute, read, verify, profiles.

Sync routes on purpose: scoring (pandas, esda) is CPU work that must not block the event
loop; FastAPI runs them in its thread pool.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from app import rankings
from app.api.deps import SessionDep, require_roles
from app.api.params import ComunaChoice
from app.api.responses import GeoJSONResponse
from app.api.schemas import problem_responses
from app.geojson import GEOJSON_MEDIA_TYPE
from app.identity.caller import Caller
from app.models import RankingSnapshot, Role
from app.rankings.outputs import snapshot_csv, snapshot_document, snapshot_geojson
from app.rankings.profiles import to_profile
from app.rankings.schemas import (
    Level,
    ProfileCreate,
    ProfileRead,
    RankingCreate,
    RankingRead,
    VerificationRead,
)
from app.territory.service import resolve_comuna

router = APIRouter(prefix="/rankings", tags=["rankings"])

ComputerDep = Annotated[Caller, Depends(require_roles(Role.PLANNER))]
ReaderDep = Annotated[Caller, Depends(require_roles(Role.PLANNER, Role.POLICE, Role.UNIT))]
AdminDep = Annotated[Caller, Depends(require_roles())]
SnapshotId = Annotated[uuid.UUID, Path(description="Identificador del ranking (UUID).")]
Format = Annotated[
    Literal["json", "geojson", "csv"],
    Query(description="json (valores, normalizados y contribuciones), geojson (coropleta) o csv."),
]
LevelQuery = Annotated[Level, Query(description="barrio o micro_barrio.")]

_FORMATS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            GEOJSON_MEDIA_TYPE: {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        },
        "description": "El ranking en el formato pedido.",
    }
}


def _render(session: SessionDep, snapshot: RankingSnapshot, format: str) -> Response:
    if format == "geojson":
        return GeoJSONResponse(snapshot_geojson(session, snapshot))
    if format == "csv":
        filename = f"ranking-{snapshot.comuna_code}-{snapshot.level}-{snapshot.id}.csv"
        return Response(
            snapshot_csv(session, snapshot),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    document = RankingRead.model_validate(snapshot_document(session, snapshot))
    return JSONResponse(document.model_dump(mode="json", by_alias=True))


@router.post(
    "",
    operation_id="computeRanking",
    status_code=201,
    response_model=RankingRead,
    responses=problem_responses(401, 403, 404, 422),
)
def compute(body: RankingCreate, session: SessionDep, caller: ComputerDep) -> RankingRead:
    """Calcula y guarda un ranking reproducible (roles planner, admin)."""
    snapshot = rankings.compute_snapshot(
        session,
        level=body.level,
        comuna=body.comuna,
        period_end=body.period_end,
        months=body.months,
        profile_name=body.profile,
        profile_version=body.profile_version,
        computed_by=caller.actor,
    )
    return RankingRead.model_validate(snapshot_document(session, snapshot))


@router.get(
    "/profiles",
    operation_id="listRankingProfiles",
    response_model=list[ProfileRead],
    responses=problem_responses(401, 403),
)
def list_profiles(session: SessionDep, caller: ReaderDep) -> list[ProfileRead]:
    """Perfiles de pesos con todas sus versiones (ninguna se borra ni se edita)."""
    return [_profile_read(row) for row in rankings.list_profiles(session)]


@router.post(
    "/profiles",
    operation_id="createRankingProfileVersion",
    status_code=201,
    response_model=ProfileRead,
    responses=problem_responses(401, 403, 422),
)
def create_profile(body: ProfileCreate, session: SessionDep, caller: AdminDep) -> ProfileRead:
    """Crea una versión nueva de un perfil (admin); las versiones anteriores quedan."""
    row = rankings.create_profile_version(
        session,
        name=body.name,
        changes=body.model_dump(exclude={"name", "description"}, exclude_none=True),
        description=body.description,
        created_by=caller.actor,
    )
    return _profile_read(row)


@router.get(
    "/latest",
    operation_id="getLatestRanking",
    response_model=RankingRead,
    responses={**problem_responses(401, 403, 404, 422), **_FORMATS},
)
def latest(
    session: SessionDep,
    caller: ReaderDep,
    level: LevelQuery,
    comuna: ComunaChoice = None,
    format: Format = "json",
) -> Response:
    """El último ranking calculado de un nivel y comuna."""
    code = resolve_comuna(session, comuna).code
    return _render(session, rankings.latest_snapshot(session, level=level, comuna=code), format)


@router.get(
    "/{snapshot_id}",
    operation_id="getRanking",
    response_model=RankingRead,
    responses={**problem_responses(401, 403, 404, 422), **_FORMATS},
)
def get(
    session: SessionDep, caller: ReaderDep, snapshot_id: SnapshotId, format: Format = "json"
) -> Response:
    """Un ranking guardado, tal como se calculó."""
    return _render(session, rankings.get_snapshot(session, snapshot_id), format)


@router.post(
    "/{snapshot_id}/recompute",
    operation_id="verifyRanking",
    response_model=VerificationRead,
    responses=problem_responses(401, 403, 404),
)
def recompute(session: SessionDep, caller: ReaderDep, snapshot_id: SnapshotId) -> VerificationRead:
    """Recalcula desde las entradas guardadas y dice si huellas y números coinciden (no escribe)."""
    snapshot = rankings.get_snapshot(session, snapshot_id)
    result = rankings.verify_snapshot(session, snapshot)
    return VerificationRead(
        id=snapshot.id,
        matches=result.matches,
        input_fingerprint={
            "stored": snapshot.input_fingerprint,
            "recomputed": result.input_fingerprint,
            "matches": result.inputs_match,
        },
        result_fingerprint={
            "stored": snapshot.result_fingerprint,
            "recomputed": result.result_fingerprint,
            "matches": result.results_match,
        },
        differences=result.differences,
        software={"stored": snapshot.meta.get("software", {}), "current": result.software_now},
        current_data={
            "input_fingerprint": result.current_input_fingerprint,
            "matches": result.current_data_matches,
        },
    )


def _profile_read(row: Any) -> ProfileRead:
    profile = to_profile(row)
    return ProfileRead(
        name=row.name,
        version=row.version,
        weights=dict(profile.weights),
        normalisation=profile.normalisation.value,
        classifier=profile.classifier.value,
        inverted=sorted(profile.inverted),
        risk_factor_weights=dict(profile.risk_factor_weights),
        method=profile.method,
        smoothing=profile.smoothing.value,
        description=row.description,
        created_at=row.created_at,
        created_by=row.created_by,
    )
