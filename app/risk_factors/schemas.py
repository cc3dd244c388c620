"""API schemas for risk factors, their catalog, timeline, photos, projects and statistics."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from geojson_pydantic import Feature, FeatureCollection
from geojson_pydantic.geometries import Geometry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    computed_field,
)

from app.api.params import CutCode
from app.api.strict import FactDatetime, PlausibleDate
from app.models import ProjectStatus, ReportStatus, Typology

GeometryName = Literal["Point", "LineString", "Polygon"]
_CODE = r"^[a-z][a-z0-9_]{1,59}$"


class _Strict(BaseModel):
    """Request bodies: unknown fields refused; numbers and booleans typed (app.api.strict)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("falta el desfase horario (p. ej. -04:00 o Z)")
    return value


# --- catalog -----------------------------------------------------------------------------


class RiskFactorTypeCreate(_Strict):
    code: str = Field(pattern=_CODE, description="Código estable (minúsculas, dígitos y _).")
    label: str = Field(min_length=3, max_length=200, description="Nombre en español.")
    typology: Typology | None = Field(
        description="Tipología SPD del proyecto que lo resuelve (nula: coordinación)."
    )
    default_unit: str = Field(min_length=2, max_length=200)
    expected_days: StrictInt = Field(ge=1, le=3650, description="Días esperados hasta resolverlo.")
    geometry_types: list[GeometryName] = Field(min_length=1)
    attributes_schema: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Atributos propios del tipo: {código: {type: integer|number|string|boolean|enum, "
            "label, required, min, max, max_length, values}}."
        ),
    )
    public: StrictBool = Field(
        default=True, description="Falso: nunca aparece en el feed público ni en Open311."
    )
    comuna: CutCode | None = Field(
        default=None, description="Solo para esta comuna (nulo: nacional)."
    )


class RiskFactorTypeUpdate(_Strict):
    label: str | None = Field(default=None, min_length=3, max_length=200)
    typology: Typology | None = None
    default_unit: str | None = Field(default=None, min_length=2, max_length=200)
    expected_days: StrictInt | None = Field(default=None, ge=1, le=3650)
    geometry_types: list[GeometryName] | None = Field(default=None, min_length=1)
    attributes_schema: dict[str, Any] | None = None
    public: StrictBool | None = None
    active: StrictBool | None = None


class RiskFactorTypeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    label: str
    typology: Typology | None
    default_unit: str
    expected_days: int
    geometry_types: list[str]
    attributes_schema: dict[str, Any]
    public: bool
    active: bool
    comuna_code: str | None


# --- reports -----------------------------------------------------------------------------


class RiskFactorCreate(_Strict):
    id: uuid.UUID | None = Field(
        default=None,
        description="UUID generado en el dispositivo; sirve también como clave de idempotencia.",
    )
    type: str = Field(max_length=60, description="Código del tipo de factor (catálogo).")
    geometry: dict[str, Any] = Field(
        description=(
            "Geometría GeoJSON (RFC 7946, WGS 84, [longitud, latitud], sin `crs`): Point, "
            "LineString (tramo oscuro) o Polygon (sitio eriazo), según el tipo."
        ),
        examples=[{"type": "Point", "coordinates": [-72.775, -39.452]}],
    )
    severity: StrictInt = Field(ge=1, le=5, description="Gravedad de 1 (leve) a 5 (crítica).")
    description: str | None = Field(default=None, max_length=2000)
    observed_at: Annotated[FactDatetime, AfterValidator(_aware)] = Field(
        description="Cuándo se observó (reloj del dispositivo)."
    )
    reporting_unit: str | None = Field(
        default=None, max_length=200, description="Unidad policial que informa (p. ej. cuadrante)."
    )
    officer_id: str | None = Field(
        default=None, max_length=60, description="Identificador del funcionario (nunca público)."
    )
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="Atributos propios del tipo (ver el catálogo)."
    )


class RiskFactorUpdate(_Strict):
    severity: StrictInt | None = Field(default=None, ge=1, le=5)
    description: str | None = Field(default=None, max_length=2000)
    attributes: dict[str, Any] | None = None
    project_id: StrictInt | None = Field(
        default=None,
        description=(
            "Proyecto de intervención que lo resuelve (solo administradores; null lo desasocia)."
        ),
    )


class TransitionCreate(_Strict):
    to: ReportStatus = Field(description="Estado destino.")
    note: str | None = Field(default=None, max_length=2000)
    responsible_unit: str | None = Field(
        default=None,
        max_length=200,
        description="Al derivar: unidad responsable (por defecto, la del tipo).",
    )
    project_id: StrictInt | None = Field(
        default=None, description="Al pasar a en_gestion: proyecto de intervención."
    )
    duplicate_of: uuid.UUID | None = Field(
        default=None, description="Al marcar duplicado: el informe que se conserva."
    )


class UnitRef(BaseModel):
    code: str
    name: str


class TypeRef(BaseModel):
    code: str
    label: str
    typology: Typology | None


class Actor(BaseModel):
    role: str | None
    institution: str | None
    unit: str | None
    name: str | None


class TransitionRead(BaseModel):
    from_status: ReportStatus | None
    to_status: ReportStatus
    at: datetime
    actor: Actor
    note: str | None
    details: dict[str, Any]


def photo_url(report_id: uuid.UUID, photo_id: uuid.UUID) -> str:
    """Where a photo is downloaded (the route `getRiskFactorPhoto`); built only here."""
    return f"/api/v1/risk-factors/{report_id}/photos/{photo_id}"


class PhotoRead(BaseModel):
    id: uuid.UUID
    report_id: uuid.UUID = Field(exclude=True)
    content_type: str
    size_bytes: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return photo_url(self.report_id, self.id)


class DuplicateCandidate(BaseModel):
    id: uuid.UUID
    status: ReportStatus
    distance_m: float


class RiskFactorRead(BaseModel):
    id: uuid.UUID
    comuna: str
    type: TypeRef
    status: ReportStatus
    severity: int
    description: str | None
    attributes: dict[str, Any]
    geometry: dict[str, Any] = Field(description="GeoJSON exacto (solo para roles autorizados).")
    observed_at: datetime
    received_at: datetime
    institution: str
    reporting_unit: str | None
    officer_id: str | None
    responsible_unit: str | None
    suggested_unit: str = Field(description="Unidad responsable por defecto del tipo.")
    barrio: UnitRef | None
    micro_barrio: UnitRef | None
    project_id: int | None
    duplicate_of: uuid.UUID | None
    possible_duplicate_of: uuid.UUID | None
    possible_duplicates: list[DuplicateCandidate] = Field(
        default_factory=list,
        description="Informes abiertos del mismo tipo a menos de ~30 m (al momento de enviar).",
    )
    due_at: datetime
    overdue: bool
    resolved_at: datetime | None
    version: int
    photos: list[PhotoRead]
    timeline: list[TransitionRead]


class RiskFactorProperties(BaseModel):
    type: str
    type_label: str
    typology: Typology | None
    status: ReportStatus
    severity: int
    comuna: str
    barrio: str | None
    micro_barrio: str | None
    responsible_unit: str | None
    institution: str
    observed_at: datetime
    received_at: datetime
    due_at: datetime
    overdue: bool
    resolved_at: datetime | None
    project_id: int | None


RiskFactorCollection = FeatureCollection[Feature[Geometry, RiskFactorProperties]]


class PublicRiskFactorProperties(BaseModel):
    type: str
    type_label: str
    typology: Typology | None
    status: ReportStatus
    status_label: str
    barrio: str | None
    micro_barrio: str | None
    location_precision: Literal["micro_barrio", "barrio"]
    reported_month: str = Field(description="Mes del informe (AAAA-MM), sin día ni hora.")
    resolved_month: str | None
    overdue: bool


PublicRiskFactorCollection = FeatureCollection[Feature[Geometry, PublicRiskFactorProperties]]


# --- statistics --------------------------------------------------------------------------


class StatsGroup(BaseModel):
    key: str | None
    label: str | None
    total: int
    open: int
    resolved: int
    overdue: int
    median_days_to_resolution: float | None
    share_resolved_within_expected: float | None = Field(
        description="Resueltos dentro de los días esperados / resueltos (nulo si no hay)."
    )


class RiskFactorStats(BaseModel):
    overall: StatsGroup
    by_status: list[StatsGroup]
    by_type: list[StatsGroup]
    by_unit: list[StatsGroup]
    by_barrio: list[StatsGroup]


# --- projects ----------------------------------------------------------------------------


class ProjectCreate(_Strict):
    comuna: CutCode
    name: str = Field(min_length=3, max_length=200)
    typology: Typology
    barrios: list[str] = Field(default_factory=list, description="Códigos de barrio.")
    status: ProjectStatus = ProjectStatus.PLANIFICADO
    start_date: PlausibleDate | None = None
    end_date: PlausibleDate | None = None
    budget_clp: StrictInt | None = Field(default=None, ge=0, le=10**14 - 1, description="Pesos.")


class ProjectUpdate(_Strict):
    name: str | None = Field(default=None, min_length=3, max_length=200)
    barrios: list[str] | None = None
    status: ProjectStatus | None = None
    start_date: PlausibleDate | None = None
    end_date: PlausibleDate | None = None
    budget_clp: StrictInt | None = Field(default=None, ge=0, le=10**14 - 1, description="Pesos.")


class ProjectFactor(BaseModel):
    id: uuid.UUID
    type: str
    status: ReportStatus
    barrio: str | None
    overdue: bool


class ProjectRead(BaseModel):
    id: int
    comuna: str
    name: str
    typology: Typology
    status: ProjectStatus
    barrios: list[str]
    start_date: date | None
    end_date: date | None
    budget_clp: Decimal | None
    factors: list[ProjectFactor]
    factors_by_status: dict[str, int]
