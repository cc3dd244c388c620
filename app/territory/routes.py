from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.api.deps import SessionDep
from app.api.params import ComunaFilter, Latitude, Longitude
from app.api.responses import GeoJSONResponse
from app.api.schemas import problem_responses
from app.territory import service as territory
from app.territory.schemas import (
    BarrioCollection,
    BarrioFeature,
    LocationRead,
    MicroBarrioCollection,
    UnitRef,
)

router = APIRouter(tags=["territorio"])

BarrioCode = Annotated[
    str,
    Path(max_length=40, description="Código del barrio (p. ej. B01001).", examples=["B01001"]),
]


@router.get(
    "/barrios",
    operation_id="listBarrios",
    response_model=BarrioCollection,
    response_class=GeoJSONResponse,
    responses=problem_responses(422),
)
def list_barrios(session: SessionDep, comuna: ComunaFilter = None) -> Response:
    """Barrios como FeatureCollection GeoJSON (RFC 7946)."""
    return GeoJSONResponse(territory.barrios_geojson(session, comuna=comuna))


@router.get(
    "/barrios/{code}",
    operation_id="getBarrio",
    response_model=BarrioFeature,
    response_class=GeoJSONResponse,
    responses=problem_responses(404, 422),
)
def get_barrio(session: SessionDep, code: BarrioCode, comuna: ComunaFilter = None) -> Response:
    """Un barrio como Feature GeoJSON."""
    return GeoJSONResponse(territory.barrio_feature(session, code, comuna=comuna))


@router.get(
    "/micro-barrios",
    operation_id="listMicroBarrios",
    response_model=MicroBarrioCollection,
    response_class=GeoJSONResponse,
    responses=problem_responses(422),
)
def list_micro_barrios(
    session: SessionDep,
    comuna: ComunaFilter = None,
    barrio: Annotated[
        str | None, Query(max_length=40, description="Solo los de este barrio.")
    ] = None,
) -> Response:
    """Micro-barrios como FeatureCollection GeoJSON (RFC 7946)."""
    return GeoJSONResponse(territory.micro_barrios_geojson(session, comuna=comuna, barrio=barrio))


@router.get(
    "/locate",
    operation_id="locatePoint",
    response_model=LocationRead,
    responses=problem_responses(404, 422),
)
def locate(session: SessionDep, lon: Longitude, lat: Latitude) -> LocationRead:
    """Barrio y micro-barrio que contienen un punto (404 si queda fuera de la comuna)."""
    found = territory.locate(session, lon, lat)
    return LocationRead(
        lon=lon,
        lat=lat,
        comuna=UnitRef(**found.comuna),
        barrio=UnitRef(**found.barrio),
        micro_barrio=UnitRef(**found.micro_barrio) if found.micro_barrio else None,
        on_boundary=found.on_boundary,
    )
