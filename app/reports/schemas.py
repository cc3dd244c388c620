"""API schemas for generated reports and the before/after evaluation of interventions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app.api.params import CutCode
from app.models import ReportFormat, ReportKind


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ReportKind = Field(
        description="bulletin (boletín mensual del Consejo), spd (avance a la SPD, de enero "
        "al mes indicado) o annual (cuenta pública, versión interna)."
    )
    month: str | None = Field(
        default=None, description="AAAA-MM; obligatorio para bulletin y spd.", examples=["2025-06"]
    )
    year: StrictInt | None = Field(default=None, description="AAAA; obligatorio para annual.")
    format: ReportFormat = Field(default=ReportFormat.PDF, description="pdf o html.")
    comuna: CutCode | None = Field(default=None, description="Código CUT (por defecto, la única).")


class ReportRead(BaseModel):
    id: int
    kind: ReportKind
    period: str = Field(description="AAAA-MM (boletín, avance SPD) o AAAA (anual).")
    format: ReportFormat
    comuna: str
    data_as_of: datetime = Field(
        description="Corte de datos: denuncias recibidas hasta este instante. Regenerar con "
        "el mismo corte reproduce las cifras."
    )
    created_at: datetime
    created_by: str
    size_bytes: int
    sha256: str = Field(description="Huella SHA-256 del archivo.")
    download: str = Field(description="Ruta de descarga del archivo.")


class ComparisonUnitRead(BaseModel):
    unit: str = Field(description="Código del micro-barrio (sin el área ni su anillo).")
    same_settlement: bool = Field(description="En la misma localidad que el área intervenida.")
    trend_distance: float | None = Field(
        description="Distancia de forma de la serie en el período de pareo (0 = misma "
        "tendencia); menor es mejor. Nula si se eligió por nivel."
    )
    before: int
    after: int


class EffectRead(BaseModel):
    """One area (intervened, or its ring) against the comparison."""

    before: int
    after: int
    irr: float | None = Field(description="Razón de tasas (IRR) del titular; 0,6 = baja de 40 %.")
    interval: tuple[float | None, float | None] = Field(description="IC 95 % del IRR titular.")
    p_value: float | None
    test: str = Field(description="modelo (GLM) o exacto (condicional, pocos casos).")
    model_family: str = Field(description="poisson o binomial_negativa.")
    model_irr: float | None
    model_interval: tuple[float | None, float | None]
    model_p: float | None
    exact_irr: float | None
    exact_interval: tuple[float | None, float | None]
    exact_p: float | None
    nb_alpha: float | None = Field(description="Sobredispersión NB2 (si se usó).")
    pearson_dispersion: float | None
    pretrend_p: float | None = Field(
        description="p de la diferencia de tendencias previas (bajo 0,10: no paralelas)."
    )


class DisplacementRead(BaseModel):
    wdq: float | None = Field(
        description="Cociente de desplazamiento ponderado (Bowers y Johnson)."
    )
    reading: str
    success_measure: float | None
    buffer_measure: float | None
    total_net_effect: float | None = Field(description="Denuncias evitadas netas (Guerette).")


class TerrainTargetRead(BaseModel):
    snapshot_id: uuid.UUID = Field(description="Modelo de terreno de riesgo citado.")
    cells: str = Field(description="top_5, top_10, top_20 (por rango) o proyecto.")
    cell_count: int = Field(description="Celdas que forman el área intervenida.")
    cells_total: int
    cell_m: float
    period_start: date
    period_end: date
    method_version: int
    input_fingerprint: str
    result_fingerprint: str


class EvaluationRead(BaseModel):
    subject: str = Field(description="proyecto")
    subject_id: str
    name: str
    typology: str
    event_at: datetime = Field(description="Inicio de la ventana posterior (fin del proyecto).")
    as_of: datetime = Field(description="Corte: denuncias recibidas hasta este instante.")
    radius_m: int
    catchment_m: int = Field(description="Ancho del anillo de entorno, en metros.")
    window_days: int = Field(description="Largo de cada ventana (antes y después), en días.")
    bins_per_period: int = Field(description="Tramos iguales de cada ventana (modelo y pareo).")
    area_source: str = Field(
        description="factores (radio en torno a ellos), barrios o terreno (celdas de un modelo)."
    )
    terrain: TerrainTargetRead | None = Field(
        default=None, description="El modelo de terreno de riesgo cuyas celdas son las metas."
    )
    categories: list[str] = Field(description="Categorías de delito contadas.")
    categories_source: str = Field(description="tabla (por tipología) o solicitud.")
    hours: str = Field(description="Horario contado.")
    treated_before: int
    treated_after: int
    catchment_before: int
    catchment_after: int
    ring_units: list[str] = Field(description="Micro-barrios que toca el anillo.")
    matched_on: str = Field(
        description="historia (período anterior a las ventanas), ventana_previa o nivel."
    )
    comparison_units: list[ComparisonUnitRead]
    comparison_before: int
    comparison_after: int
    expected_after: float | None = Field(
        description="Denuncias esperadas después si el área siguiera la tendencia de la "
        "comparación."
    )
    treated: EffectRead
    catchment: EffectRead | None
    relative_effect: float | None = Field(description="IRR − 1 del titular.")
    interval: tuple[float | None, float | None] | None = Field(
        description="IC 95 % del efecto relativo."
    )
    p_value: float | None
    mde: float | None = Field(description="Menor baja detectable (0-1), potencia 80 %.")
    mde_text: str
    displacement: DisplacementRead
    verdict_code: str = Field(description="baja, alza o sin_evidencia.")
    verdict: str
    displacement_code: str | None = Field(description="desplazamiento, difusion o nada.")
    displacement_text: str | None
    caveats: list[str]
    caveat: str = Field(description="Advertencias en lenguaje simple, juntas.")
    summary: str
    method_version: str
    input_fingerprint: str = Field(description="SHA-256 de las entradas (conteos y parámetros).")
    inputs: dict[str, Any] = Field(description="Conteos por área y tramo, y parámetros.")


class StoredEvaluationRead(EvaluationRead):
    id: uuid.UUID
    project_id: int
    computed_at: datetime
    computed_by: str


class PlanIndicatorRow(BaseModel):
    ambito: str
    objective: str = Field(description="Código del objetivo (p. ej. III.2).")
    goal: str = Field(description="Código de la meta (p. ej. III.2.M3).")
    goal_text: str
    code: str = Field(description="Código del indicador.")
    indicator: str
    value: float | None
    value_text: str
    target_text: str
    status: str = Field(description="cumplida, pendiente o sin dato.")
    light: str = Field(description="Semáforo: verde, amarillo, rojo o gris (sin dato).")
    source: str = Field(description="calculado, manual o sin dato.")
    means_of_verification: str
    manual_reason: str | None
    note: str | None


class PlanDashboardRead(BaseModel):
    plan: str
    comuna: str
    period: str
    period_label: str
    proposed: bool
    goals: int = Field(description="Metas del plan.")
    rows: list[PlanIndicatorRow]
