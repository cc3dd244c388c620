"""API schemas for generated reports and the before/after evaluation of interventions."""

from __future__ import annotations

from datetime import datetime

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


class EvaluationRead(BaseModel):
    subject: str = Field(description="proyecto o factor")
    subject_id: str
    name: str
    event_at: datetime = Field(description="Inicio de la ventana posterior (fin del proyecto).")
    radius_m: int
    window_days: int = Field(description="Largo de cada ventana (antes y después), en días.")
    window_shortened: bool = Field(description="Verdadero si la intervención es reciente.")
    family: str | None
    treated_before: int = Field(description="Denuncias a radius_m o menos, ventana anterior.")
    treated_after: int
    comparison_units: list[str] = Field(description="Micro-barrios de comparación.")
    comparison_before: int
    comparison_after: int
    expected_after: float | None = Field(
        description="Denuncias esperadas después si el área siguiera la tendencia de la "
        "comparación."
    )
    relative_effect: float | None = Field(
        description="(después/antes en el área) / (después/antes en la comparación) − 1."
    )
    interval: tuple[float, float] | None = Field(
        description="Intervalo aproximado de 95 % del efecto relativo (Poisson, escala log)."
    )
    summary: str
    caveat: str = Field(description="Advertencia en lenguaje simple (números pequeños).")
    as_of: datetime


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
