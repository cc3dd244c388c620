from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.api.deps import CallerDep, SessionDep
from app.api.params import BboxQuery, ComunaFilter, FeatureLimit
from app.api.responses import GeoJSONResponse
from app.api.schemas import problem_responses
from app.context import service as context
from app.context.schemas import ContextFeatureCollection, ContextLayerList, ContextLayerRead

router = APIRouter(tags=["capas de contexto"])

_TYPE_HELP = "Código del tipo de capa de contexto (p. ej. paradero)."
TypeFilter = Annotated[
    str | None, Query(alias="type", max_length=40, description=_TYPE_HELP, examples=["paradero"])
]
TypePath = Annotated[
    str, Path(alias="type", max_length=40, description=_TYPE_HELP, examples=["paradero"])
]


@router.get(
    "/context-layers",
    operation_id="listContextLayers",
    response_model=ContextLayerList,
    responses=problem_responses(422),
)
def list_context_layers(
    session: SessionDep, caller: CallerDep, type_: TypeFilter = None, comuna: ComunaFilter = None
) -> ContextLayerList:
    """Tipos de capa de contexto con sus elementos por comuna (sin clave: solo los públicos)."""
    layers = context.list_layers(session, caller, type_=type_, comuna=comuna)
    return ContextLayerList(layers=[ContextLayerRead.model_validate(layer) for layer in layers])


@router.get(
    "/context-layers/{type}/features",
    operation_id="listContextFeatures",
    response_model=ContextFeatureCollection,
    response_class=GeoJSONResponse,
    responses=problem_responses(404, 422),
)
def list_context_features(
    session: SessionDep,
    caller: CallerDep,
    type_: TypePath,
    comuna: ComunaFilter = None,
    bbox: BboxQuery = None,
    limit: FeatureLimit = 1000,
) -> Response:
    """Elementos de una capa de contexto como FeatureCollection GeoJSON (RFC 7946)."""
    return GeoJSONResponse(
        context.features_geojson(session, caller, type_, comuna=comuna, bbox=bbox, limit=limit)
    )
