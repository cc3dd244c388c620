"""Geocoding schemas: a geocoded address, a reverse-geocoded point, the review queue."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from geojson_pydantic import Feature, FeatureCollection, LineString
from pydantic import BaseModel, ConfigDict, Field, StrictFloat

from app.models import ComplaintSource, LocationPrecision


class Candidate(BaseModel):
    lon: float
    lat: float
    precision: LocationPrecision
    score: float = Field(description="0 a 1.")
    matched: str = Field(description="Qué calle, esquina o lugar del nomenclátor coincidió.")


class GeocodeRead(BaseModel):
    query: str
    placed: bool = Field(description="false: ningún candidato alcanza el puntaje de aceptación.")
    lon: float | None
    lat: float | None
    precision: LocationPrecision | None
    score: float
    matched: str | None
    gazetteer_version: int | None = Field(description="Versión del nomenclátor que lo ubicó.")
    min_score: float = Field(description="Puntaje de aceptación vigente.")
    candidates: list[Candidate] = Field(description="Los mejores candidatos (máximo 5).")


class ReverseRead(BaseModel):
    lon: float
    lat: float
    street: str | None = Field(description="Calle más cercana (a 150 m como máximo).")
    number: int | None = Field(description="Número estimado según el tramo y el lado.")
    side: str | None = Field(description="left o right según el sentido del tramo.")
    distance_m: float | None
    place: str | None = Field(description="Villa, población o sector que contiene el punto.")


class StreetProperties(BaseModel):
    name: str


StreetCollection = FeatureCollection[Feature[LineString, StreetProperties]]


class UnplacedItem(BaseModel):
    id: uuid.UUID
    external_ref: str
    source: ComplaintSource
    category: str
    occurred_at: datetime
    comuna: str
    address: str | None
    best_score: float | None
    candidates: list[dict[str, Any]]
    gazetteer_version: int | None


class UnplacedPageRead(BaseModel):
    total: int = Field(description="Denuncias en la cola (con los filtros).")
    items: list[UnplacedItem]


class PlacementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: StrictFloat = Field(ge=-180, le=180, allow_inf_nan=False, examples=[-72.7796])
    lat: StrictFloat = Field(ge=-90, le=90, allow_inf_nan=False, examples=[-39.4529])
    precision: LocationPrecision = Field(
        description="exact si se conoce la puerta; block, street o approximate si no."
    )


class PlacementRead(BaseModel):
    id: uuid.UUID
    lon: float
    lat: float
    precision: LocationPrecision
    barrio: str | None
    micro_barrio: str | None


class GazetteerLoadRead(BaseModel):
    comuna: str
    source: str
    version: int = Field(description="Versión vigente de esta fuente.")
    unchanged: bool = Field(description="true: el mismo contenido ya estaba cargado.")
    counts: dict[str, int]
