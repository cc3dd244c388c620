"""Geocoding: an address to a point, a point to an address, and the review queue."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import SessionDep, require_roles
from app.api.params import ComunaChoice, ComunaFilter, CutCode, Latitude, Longitude
from app.api.responses import GeoJSONResponse
from app.api.schemas import problem_responses
from app.errors import InvalidInput
from app.geocoding import review, service
from app.geocoding.loader import invalid_file, load_gazetteer
from app.geocoding.reader import GazetteerFileError, read_gazetteer
from app.geocoding.schemas import (
    GazetteerLoadRead,
    GeocodeRead,
    PlacementCreate,
    PlacementRead,
    ReverseRead,
    StreetCollection,
    UnplacedPageRead,
)
from app.identity.caller import Caller
from app.models import Role
from app.settings import get_geocoding_settings

router = APIRouter(tags=["geocodificación"])

KeyedDep = Annotated[Caller, Depends(require_roles(Role.POLICE, Role.UNIT, Role.PLANNER))]
# the queue shows addresses: only those who may read them (see app/geocoding/review.py)
ReviewerDep = Annotated[Caller, Depends(require_roles(Role.POLICE))]
AdminDep = Annotated[Caller, Depends(require_roles())]
SUFFIXES = {"geojson": ".geojson", "gpkg": ".gpkg", "osm-pbf": ".osm.pbf"}
_GAZETTEER_BODY = {
    "description": "El archivo como cuerpo (máximo 100 MB): GeoJSON, GeoPackage o extracto "
    "OpenStreetMap .osm.pbf, según `format`.",
    "required": True,
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}
AddressQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=service.MAX_QUERY_CHARS,
        description="Dirección como se escribe en Chile: 'Pje. Los Aromos 345', "
        "'Av. Lanco esq. Baquedano', 'km 3 camino a Malalhue', 'Villa Esperanza'.",
    ),
]


@router.get(
    "/geocode",
    operation_id="geocodeAddress",
    response_model=GeocodeRead,
    responses=problem_responses(401, 403, 422),
)
def geocode(
    session: SessionDep, caller: KeyedDep, q: AddressQuery, comuna: ComunaChoice = None
) -> GeocodeRead:
    """Ubica una dirección con el nomenclátor local (sin servicios externos)."""
    result = service.geocode_one(session, q, comuna=comuna)
    return GeocodeRead(
        query=result.query,
        placed=result.placed,
        lon=result.lon,
        lat=result.lat,
        precision=result.precision,
        score=result.score,
        matched=result.matched,
        gazetteer_version=result.version_id,
        min_score=get_geocoding_settings().min_score,
        candidates=result.candidates,
    )


@router.get(
    "/reverse",
    operation_id="reverseGeocode",
    response_model=ReverseRead,
    responses=problem_responses(401, 403, 422),
)
def reverse(session: SessionDep, caller: KeyedDep, lon: Longitude, lat: Latitude) -> ReverseRead:
    """La calle, el número estimado y el lugar más cercanos a un punto."""
    return ReverseRead(lon=lon, lat=lat, **service.reverse(session, lon, lat))


@router.get(
    "/gazetteer/streets",
    operation_id="listGazetteerStreets",
    response_model=StreetCollection,
    response_class=GeoJSONResponse,
    responses=problem_responses(401, 403, 422),
)
def gazetteer_streets(
    session: SessionDep, caller: KeyedDep, comuna: ComunaChoice = None
) -> Response:
    """Los tramos de calle del nomenclátor vigente (GeoJSON), para dibujarlos."""
    return GeoJSONResponse(service.street_lines(session, comuna))


@router.get(
    "/complaints/unplaced",
    operation_id="listUnplacedComplaints",
    response_model=UnplacedPageRead,
    responses=problem_responses(401, 403, 422),
)
def list_unplaced(
    session: SessionDep,
    caller: ReviewerDep,
    comuna: ComunaFilter = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Máximo por página.")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Desde la posición.")] = 0,
) -> UnplacedPageRead:
    """Denuncias que llegaron como dirección y no se pudieron ubicar (cola de revisión)."""
    page = review.unplaced(session, caller, comuna=comuna, limit=limit, offset=offset)
    return UnplacedPageRead.model_validate({"total": page.total, "items": page.items})


@router.post(
    "/complaints/{complaint_id}/placement",
    operation_id="placeComplaint",
    response_model=PlacementRead,
    responses=problem_responses(401, 403, 404, 422),
)
def place_complaint(
    session: SessionDep,
    caller: ReviewerDep,
    complaint_id: Annotated[uuid.UUID, Path(description="Id de la denuncia.")],
    body: PlacementCreate,
) -> PlacementRead:
    """Ubica a mano una denuncia (desde la cola); asigna barrio y micro-barrio y se audita."""
    units = review.place_by_hand(
        session, caller, complaint_id, lon=body.lon, lat=body.lat, precision=body.precision
    )
    return PlacementRead(
        id=complaint_id, lon=body.lon, lat=body.lat, precision=body.precision, **units
    )


@router.post(
    "/gazetteer",
    operation_id="loadGazetteer",
    response_model=GazetteerLoadRead,
    responses=problem_responses(401, 403, 413, 422),
    openapi_extra={"requestBody": _GAZETTEER_BODY},
)
async def load_gazetteer_file(
    request: Request,
    session: SessionDep,
    caller: AdminDep,
    comuna: Annotated[CutCode, Query(description="Código CUT de la comuna.")],
    format: Annotated[
        str, Query(pattern="^(geojson|gpkg|osm-pbf)$", description="geojson, gpkg u osm-pbf.")
    ],
    source: Annotated[
        str, Query(min_length=1, max_length=100, description="Nombre de la fuente.")
    ] = "api",
) -> GazetteerLoadRead:
    """Carga (o recarga) una fuente del nomenclátor de una comuna; si algo falla, no escribe."""
    with tempfile.TemporaryDirectory() as tmp:
        path = FilePath(tmp) / f"nomenclator{SUFFIXES[format]}"
        with path.open("wb") as f:
            async for chunk in request.stream():
                f.write(chunk)
        if path.stat().st_size == 0:
            raise InvalidInput(
                "El cuerpo está vacío: envíe el archivo.",
                errors=[{"field": "archivo", "location": "body", "reason": "vacío"}],
            )

        def load() -> GazetteerLoadRead:
            try:
                content = read_gazetteer(path)
            except GazetteerFileError as exc:
                raise invalid_file(source, exc) from exc
            report = load_gazetteer(
                session, content, comuna=comuna, source_name=source, loaded_by=caller.actor
            )
            return GazetteerLoadRead(
                comuna=comuna,
                source=source,
                version=report.version,
                unchanged=report.unchanged,
                counts=report.counts,
            )

        return await run_in_threadpool(load)
