"""Complaint (denuncia) schemas: what institutions send, and what staff read back."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Literal

from geojson_pydantic import Feature, FeatureCollection, Point
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, ValidationInfo, field_validator

from app.api.strict import FactDatetime, not_in_future
from app.errors import FieldProblem
from app.models import ComplaintSource, LocationPrecision
from app.timezone import as_chile


class ComplaintCreate(BaseModel):
    """One complaint as an institution sends it (also one CSV row or GeoJSON feature).

    Strict as a JSON body (`"lon": "-72.7"` is refused); an imported file's rows are text
    and are validated with `strict=False`.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)

    external_ref: str = Field(
        min_length=1,
        max_length=100,
        description="Número de caso de la institución; único por fuente.",
        examples=["CAR-2025-000123"],
    )
    source: ComplaintSource = Field(description="Institución que informa la denuncia.")
    category: str = Field(
        min_length=1, max_length=10, description="Código del catálogo (`GET /categories`)."
    )
    occurred_at: FactDatetime = Field(
        description=(
            "Fecha y hora del hecho, ISO 8601. Sin desfase horario se interpreta como hora "
            "de Chile continental (America/Santiago)."
        ),
        examples=["2025-06-01T21:30:00-04:00", "2025-06-01T21:30:00"],
    )
    lon: StrictFloat | None = Field(
        default=None,
        description="Longitud WGS 84 (grados). Sin lon ni lat, la dirección se geocodifica "
        "(solo al importar con geocode=true).",
        examples=[-72.775],
    )
    lat: StrictFloat | None = Field(
        default=None,
        validate_default=True,
        description="Latitud WGS 84 (grados); va siempre con lon.",
        examples=[-39.452],
    )
    precision: LocationPrecision | None = Field(
        default=None,
        validate_default=True,
        description="Precisión de la ubicación: exact, street, block o approximate; "
        "obligatoria con lon y lat (al geocodificar la pone el geocodificador).",
    )
    address: str | None = Field(
        default=None,
        max_length=300,
        validate_default=True,
        description="Dirección (texto); obligatoria sin lon ni lat.",
        examples=["Pje. Los Aromos 345"],
    )

    @field_validator("occurred_at")
    @classmethod
    def _aware_and_past(cls, value: datetime) -> datetime:
        return not_in_future(as_chile(value), what="la fecha del hecho")

    @field_validator("lon")
    @classmethod
    def _lon_range(cls, value: float | None) -> float | None:
        if value is not None and not -180 <= value <= 180:
            raise ValueError(f"longitud {value} fuera del rango [-180, 180]")
        return value

    @field_validator("lat")
    @classmethod
    def _lat_range(cls, value: float | None, info: ValidationInfo) -> float | None:
        if "lon" in info.data and (info.data["lon"] is None) != (value is None):
            raise ValueError("lon y lat van juntas: envíe las dos o ninguna")
        if value is None:
            return value
        if not -90 <= value <= 90:
            lon = info.data.get("lon")
            hint = (
                "; ¿latitud y longitud están invertidas?"
                if lon is not None and math.isfinite(lon) and abs(lon) <= 90 and abs(value) <= 180
                else ""
            )
            raise ValueError(f"latitud {value} fuera del rango [-90, 90]{hint}")
        return value

    @field_validator("precision")
    @classmethod
    def _precision_with_point(
        cls, value: LocationPrecision | None, info: ValidationInfo
    ) -> LocationPrecision | None:
        if value is None and info.data.get("lon") is not None:
            raise ValueError("campo obligatorio con lon y lat")
        return value

    @field_validator("address")
    @classmethod
    def _blank_is_none(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value and info.data.get("lon", 0) is None and info.data.get("lat", 0) is None:
            raise ValueError("campo obligatorio sin lon ni lat (la dirección a geocodificar)")
        return value or None

    @property
    def located(self) -> bool:
        return self.lon is not None


class UnitRef(BaseModel):
    code: str
    name: str


class ComplaintRead(BaseModel):
    id: uuid.UUID
    external_ref: str
    source: ComplaintSource
    category: str
    taxonomy_version: str
    occurred_at: datetime
    received_at: datetime
    lon: float
    lat: float
    precision: LocationPrecision
    address: str | None
    comuna: str = Field(description="Código CUT de la comuna que contiene el punto.")
    barrio: UnitRef | None = Field(description="Asignado por punto en polígono en PostGIS.")
    micro_barrio: UnitRef | None = Field(
        description="Nulo cuando el barrio no se divide en micro-barrios (p. ej. zona rural)."
    )
    loaded_by: str


class ImportReportRead(BaseModel):
    """What an import did: every row is inserted, updated, unchanged or rejected."""

    rows: int = Field(description="Filas de datos leídas.")
    inserted: int
    updated: int
    unchanged: int = Field(description="Ya estaban con los mismos datos (mismo external_ref).")
    rejected: int = Field(description="Filas inválidas (solo con mode=skip-invalid).")
    geocoded: int = Field(
        default=0,
        description="Filas sin coordenadas ubicadas por el geocodificador (geocode=true).",
    )
    unplaced: int = Field(
        default=0,
        description="Filas sin coordenadas que no se pudieron ubicar: guardadas sin ubicación "
        "y en la cola de revisión (GET /complaints/unplaced).",
    )
    errors: list[FieldProblemOut] = Field(
        default_factory=list, description="Problemas por fila (máximo 1.000)."
    )
    errors_omitted: int = Field(default=0, description="Problemas no listados por el máximo.")


class FieldProblemOut(BaseModel):
    row: int | None = None
    index: int | None = None
    field: str
    reason: str


def problems_out(problems: list[FieldProblem]) -> list[FieldProblemOut]:
    return [FieldProblemOut.model_validate(p) for p in problems]


# --- reading ------------------------------------------------------------------------------


class ComplaintProperties(BaseModel):
    external_ref: str | None = Field(description="N° de caso; null para planificación.")
    source: ComplaintSource
    category: str
    category_name: str
    family: str
    dmcs: bool
    sensitive: bool
    taxonomy_version: str
    occurred_at: datetime
    received_at: datetime
    precision: LocationPrecision
    address: str | None
    comuna: str
    barrio: str | None
    micro_barrio: str | None


class Link(BaseModel):
    href: str
    rel: Literal["next", "self"]
    type: str = "application/geo+json"


class ComplaintCollection(FeatureCollection[Feature[Point, ComplaintProperties]]):
    numberReturned: int = Field(description="Features en esta página.")  # noqa: N815 (OGC name)
    links: list[Link] = Field(description="`next` lleva a la página siguiente, si la hay.")


GroupBy = Literal["barrio", "micro_barrio", "month", "category"]


class ComplaintStats(BaseModel):
    group_by: list[GroupBy]
    total: int
    groups: list[dict[str, str | int | None]] = Field(
        description="Una fila por combinación con denuncias: claves de `group_by` y `count`."
    )


ImportReportRead.model_rebuild()
