"""Geocoding: an address to a point, a point to an address, and the review queue."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app.api.deps import SessionDep, require_roles
from app.api.params import ComunaChoice, ComunaFilter
from app.api.schemas import problem_responses
from app.geocoding import review, service
from app.geocoding.schemas import (
    GeocodeRead,
    PlacementCreate,
    PlacementRead,
    ReverseRead,
    UnplacedPageRead,
)
from app.identity.caller import Caller
from app.models import Role
from app.settings import get_geocoding_settings
from app.territory.routes import Latitude, Longitude

router = APIRouter(tags=["geocodificación"])

KeyedDep = Annotated[Caller, Depends(require_roles(Role.POLICE, Role.UNIT, Role.PLANNER))]
# the queue shows addresses: only those who may read them (see app/geocoding/review.py)
ReviewerDep = Annotated[Caller, Depends(require_roles(Role.POLICE))]
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
