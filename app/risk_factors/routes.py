"""Police-reported urban risk factors: catalog, submission, lifecycle, photos, queries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Header, Path, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from app.api.deps import CallerDep, SessionDep, require_roles
from app.api.params import BboxQuery, ComunaFilter
from app.api.responses import GeoJSONResponse
from app.api.schemas import problem_responses
from app.api.strict import IsoDate
from app.identity.caller import Caller
from app.models import ReportStatus, Role
from app.privacy import public_risk_factors as public
from app.risk_factors import catalog, photos, queries, transitions
from app.risk_factors import field_reports as reports
from app.risk_factors.schemas import (
    PhotoRead,
    PublicRiskFactorCollection,
    RiskFactorCollection,
    RiskFactorCreate,
    RiskFactorRead,
    RiskFactorStats,
    RiskFactorTypeCreate,
    RiskFactorTypeRead,
    RiskFactorTypeUpdate,
    RiskFactorUpdate,
    TransitionCreate,
)
from app.risk_factors.submission import submit as submit_field_report
from app.settings import RiskFactorSettings, get_risk_settings

router = APIRouter(tags=["factores de riesgo"])

AdminDep = Annotated[Caller, Depends(require_roles(Role.ADMIN))]
SubmitterDep = Annotated[Caller, Depends(require_roles(Role.POLICE))]
ReaderDep = Annotated[Caller, Depends(require_roles(Role.POLICE, Role.UNIT, Role.PLANNER))]
MoverDep = Annotated[Caller, Depends(require_roles(Role.UNIT))]
PhotographerDep = Annotated[Caller, Depends(require_roles(Role.POLICE, Role.UNIT))]
SettingsDep = Annotated[RiskFactorSettings, Depends(get_risk_settings)]

ReportId = Annotated[uuid.UUID, Path(description="Identificador (UUID) del informe.")]
TypeCode = Annotated[str, Path(max_length=60, description="Código del tipo de factor.")]
IfMatch = Annotated[
    str | None,
    Header(description="ETag leído con GET; obligatorio para modificar (412 si cambió)."),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=8,
        max_length=200,
        description=(
            "Clave única por informe generada en el dispositivo: un reintento devuelve la "
            "respuesta original; la misma clave con otro contenido es un 422."
        ),
    ),
]
TypeFilter = Annotated[list[str], Query(description="Códigos de tipo (repetible).")]
StatusFilter = Annotated[list[ReportStatus], Query(description="Estados (repetible).")]
BarrioFilter = Annotated[str | None, Query(max_length=40, description="Código de barrio.")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="Máximo de features.")]
MineFilter = Annotated[
    bool,
    Query(
        description='true: solo los informes enviados con la clave que consulta ("mis '
        'informes"), dentro de lo que esa clave puede ver; con un token OIDC, 422.'
    ),
]


def report_filter(
    bbox: BboxQuery,
    comuna: ComunaFilter = None,
    type: TypeFilter = [],  # noqa: B006  (FastAPI copies query defaults)
    status: StatusFilter = [],  # noqa: B006
    overdue: Annotated[bool | None, Query(description="Solo vencidos (o no vencidos).")] = None,
    unit: Annotated[str | None, Query(max_length=200, description="Unidad responsable.")] = None,
    barrio: BarrioFilter = None,
    received_from: Annotated[IsoDate | None, Query(description="Recibidos desde (incl.).")] = None,
    received_to: Annotated[IsoDate | None, Query(description="Recibidos hasta (incl.).")] = None,
    mine: MineFilter = False,
) -> queries.ReportFilter:
    return queries.ReportFilter(
        comuna=comuna,
        types=tuple(type),
        statuses=tuple(status),
        overdue=overdue,
        unit=unit,
        barrio=barrio,
        bbox=bbox,
        received_from=received_from,
        received_to=received_to,
        mine=mine,
    )


FilterDep = Annotated[queries.ReportFilter, Depends(report_filter)]


def _report_response(body: RiskFactorRead | dict, status_code: int = 200) -> JSONResponse:
    """The report with its ETag (a submission's body is already JSON, a retry's is stored)."""
    data = body.model_dump(mode="json") if isinstance(body, RiskFactorRead) else body
    return JSONResponse(
        data, status_code=status_code, headers={"ETag": reports.etag(int(data["version"]))}
    )


# --- catalog -----------------------------------------------------------------------------


@router.get(
    "/risk-factor-types",
    operation_id="listRiskFactorTypes",
    response_model=list[RiskFactorTypeRead],
)
def list_types(
    session: SessionDep,
    caller: CallerDep,
    include_inactive: Annotated[bool, Query(description="Incluir inactivos (con clave).")] = False,
) -> list[RiskFactorTypeRead]:
    """Catálogo de tipos de factor de riesgo (el público ve solo los tipos públicos)."""
    found = catalog.list_types(
        session,
        include_inactive=include_inactive and not caller.is_public,
        public_only=caller.is_public,
    )
    return [RiskFactorTypeRead.model_validate(t) for t in found]


@router.post(
    "/risk-factor-types",
    operation_id="createRiskFactorType",
    response_model=RiskFactorTypeRead,
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
)
def create_type(session: SessionDep, _: AdminDep, data: RiskFactorTypeCreate) -> RiskFactorTypeRead:
    """Agrega un tipo de factor al catálogo (administradores)."""
    return RiskFactorTypeRead.model_validate(catalog.create_type(session, data))


@router.patch(
    "/risk-factor-types/{code}",
    operation_id="updateRiskFactorType",
    response_model=RiskFactorTypeRead,
    responses=problem_responses(401, 403, 404, 422),
)
def update_type(
    session: SessionDep, _: AdminDep, code: TypeCode, data: RiskFactorTypeUpdate
) -> RiskFactorTypeRead:
    """Edita un tipo de factor (administradores)."""
    return RiskFactorTypeRead.model_validate(catalog.update_type(session, code, data))


# --- reports -----------------------------------------------------------------------------


@router.post(
    "/risk-factors",
    operation_id="submitRiskFactor",
    response_model=RiskFactorRead,
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
)
def submit_report(
    session: SessionDep,
    caller: SubmitterDep,
    settings: SettingsDep,
    data: RiskFactorCreate,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Informa un factor de riesgo desde terreno (policía). Reintentar es seguro."""
    result = submit_field_report(
        session, caller, data, idempotency_key=idempotency_key, settings=settings
    )
    # a retry answers as the original did: 201, marked as a replay
    response = _report_response(result.body, 201)
    response.headers["Location"] = f"/api/v1/risk-factors/{result.report_id}"
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.get(
    "/risk-factors",
    operation_id="listRiskFactors",
    response_model=RiskFactorCollection,
    response_class=GeoJSONResponse,
    responses=problem_responses(401, 403, 422),
)
def list_reports(
    session: SessionDep, caller: ReaderDep, flt: FilterDep, limit: Limit = 1000
) -> Response:
    """Factores visibles para la clave, como FeatureCollection GeoJSON con ubicación exacta."""
    now = datetime.now(UTC)
    return GeoJSONResponse(queries.reports_geojson(session, caller, flt, now=now, limit=limit))


@router.get(
    "/risk-factors/stats",
    operation_id="riskFactorStats",
    response_model=RiskFactorStats,
    responses=problem_responses(401, 403, 422),
)
def report_stats(session: SessionDep, caller: ReaderDep, flt: FilterDep) -> RiskFactorStats:
    """Conteos por estado, tipo, unidad y barrio; mediana de días y cumplimiento de plazo."""
    return queries.stats(session, caller, flt, now=datetime.now(UTC))


@router.get(
    "/risk-factors/{report_id:uuid}",  # a UUID: /risk-factors/stats is not one
    operation_id="getRiskFactor",
    response_model=RiskFactorRead,
    responses=problem_responses(401, 403, 404),
)
def get_report(session: SessionDep, caller: ReaderDep, report_id: ReportId) -> Response:
    """Un informe con su línea de tiempo, fotos y ETag (para modificarlo con If-Match)."""
    return _report_response(reports.read_report(session, report_id, caller))


@router.patch(
    "/risk-factors/{report_id:uuid}",  # a UUID: /risk-factors/stats is not one
    operation_id="updateRiskFactor",
    response_model=RiskFactorRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def update_report(
    session: SessionDep,
    caller: ReaderDep,
    report_id: ReportId,
    data: RiskFactorUpdate,
    if_match: IfMatch = None,
) -> Response:
    """Corrige gravedad, descripción o atributos (requiere If-Match)."""
    reports.update_report(session, report_id, caller, data, if_match=if_match)
    return _report_response(reports.read_report(session, report_id, caller))


@router.post(
    "/risk-factors/{report_id}/transitions",
    operation_id="transitionRiskFactor",
    response_model=RiskFactorRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
def transition_report(
    session: SessionDep,
    caller: MoverDep,
    report_id: ReportId,
    data: TransitionCreate,
    if_match: IfMatch = None,
) -> Response:
    """Cambia el estado del informe (requiere If-Match); queda en la línea de tiempo."""
    transitions.transition(session, report_id, caller, data, if_match=if_match)
    return _report_response(reports.read_report(session, report_id, caller))


@router.post(
    "/risk-factors/{report_id}/photos",
    operation_id="addRiskFactorPhoto",
    response_model=PhotoRead,
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
)
def add_photo(
    session: SessionDep,
    caller: PhotographerDep,
    settings: SettingsDep,
    report_id: ReportId,
    file: Annotated[UploadFile, File(description="Foto JPEG, PNG o WebP.")],
) -> PhotoRead:
    """Adjunta una foto (JPEG, PNG o WebP, tamaño limitado): del factor o del trabajo hecho."""
    photo = photos.add_photo(session, report_id, caller, file.file, settings=settings)
    return PhotoRead(
        id=photo.id,
        report_id=report_id,
        content_type=photo.content_type,
        size_bytes=photo.size_bytes,
        created_at=photo.created_at or datetime.now(UTC),
    )


@router.get(
    "/risk-factors/{report_id}/photos/{photo_id}",
    operation_id="getRiskFactorPhoto",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        **problem_responses(401, 403, 404),
    },
)
def get_photo(
    session: SessionDep,
    caller: ReaderDep,
    report_id: ReportId,
    photo_id: Annotated[uuid.UUID, Path(description="Identificador de la foto.")],
) -> Response:
    """La foto (solo roles autorizados que ven el informe)."""
    content_type, data = photos.get_photo(session, report_id, photo_id, caller)
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# --- public ------------------------------------------------------------------------------


@router.get(
    "/public/risk-factors",
    operation_id="publicRiskFactors",
    response_model=PublicRiskFactorCollection,
    response_class=GeoJSONResponse,
    responses=problem_responses(422),
)
def public_feed(
    session: SessionDep,
    comuna: ComunaFilter = None,
    type: TypeFilter = [],  # noqa: B006
    status: StatusFilter = [],  # noqa: B006
    barrio: BarrioFilter = None,
    limit: Limit = 1000,
) -> Response:
    """Factores y su estado para la comunidad: ubicación generalizada, sin texto libre."""
    flt = public.PublicFilter(
        comuna=comuna, types=tuple(type), statuses=tuple(status), barrio=barrio
    )
    return GeoJSONResponse(public.public_geojson(session, flt, now=datetime.now(UTC), limit=limit))
