"""Risk-terrain schemas: the request that computes a model, and the snapshot read back."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StringConstraints

from app.api.params import CutCode
from app.api.strict import PlausibleDate

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,60}$")]


class RiskTerrainCreate(BaseModel):
    """What to model: comuna, period, crimes, layers and grid (all optional)."""

    model_config = ConfigDict(extra="forbid")

    comuna: CutCode | None = Field(
        default=None,
        description="Código CUT; opcional si hay una sola comuna cargada.",
        examples=["14103"],
    )
    period_end: PlausibleDate | None = Field(
        default=None,
        description="Último día incluido (AAAA-MM-DD); por defecto, fin del último mes completo.",
    )
    months: StrictInt = Field(default=12, ge=1, le=60, description="Meses del período (1-60).")
    categories: list[Code] | None = Field(
        default=None,
        max_length=100,
        description="Categorías de delito modeladas; por defecto, las DMCS.",
        examples=[["551", "552"]],
    )
    layers: list[Code] | None = Field(
        default=None,
        max_length=100,
        description=(
            "Tipos de factor de riesgo y de capa de contexto candidatos; por defecto, todos."
        ),
        examples=[["sitio_eriazo", "luminaria_apagada"]],
    )
    cell_m: StrictFloat | StrictInt = Field(
        default=50, description="Lado de la celda en metros (10-500; por defecto media cuadra)."
    )
    bands_m: list[StrictFloat | StrictInt] = Field(
        default=[100, 200, 300],
        max_length=5,
        description="Bandas de distancia en metros (por defecto 1, 2 y 3 cuadras).",
    )
    seed: StrictInt = Field(
        default=1, ge=0, le=2**31 - 1, description="Semilla de la validación cruzada."
    )
    strata: Literal["micro_barrio", "barrio", "ninguno"] = Field(
        default="micro_barrio",
        description=("Efecto fijo por celda: su micro-barrio (por defecto), su barrio, o ninguno."),
    )
    validation_months: StrictInt = Field(
        default=0,
        ge=0,
        le=24,
        description="Meses siguientes al período para validar (PAI/PEI); 0, sin validación.",
    )


class FactorRead(BaseModel):
    layer: str = Field(description="Tipo de factor de riesgo o de capa de contexto.")
    source: str = Field(description="factor (informado por la policía) o contexto.")
    feature: str
    operationalisation: str = Field(description="proximidad o densidad.")
    band_m: float
    beta: float
    rr: float = Field(description="Valor de riesgo relativo exp(beta).")
    ci_low: float = Field(description="Límite inferior del intervalo de 95 %.")
    ci_high: float = Field(description="Límite superior del intervalo de 95 %.")
    p_value: float


class TopCellRead(BaseModel):
    cell: int
    rank: int
    score: float = Field(description="Riesgo relativo de la celda (1: ningún factor actúa).")
    events: int
    hot_spot: str = Field(description="caliente (Gi*, FDR) o no_significativo.")
    lon: float = Field(description="Centro de la celda.")
    lat: float


class RiskTerrainRead(BaseModel):
    id: uuid.UUID
    comuna: str
    period_start: date
    period_end: date
    categories: list[str]
    cell_m: float
    bands_m: list[float]
    seed: int
    method_version: int
    input_fingerprint: str
    result_fingerprint: str
    computed_at: datetime
    computed_by: str
    model: dict[str, Any] = Field(
        description="Familia, dispersión, penalización, candidatos y celdas del ajuste."
    )
    factors: list[FactorRead]
    top_cells: list[TopCellRead]
    validation: list[dict[str, Any]] | None = Field(
        description="PAI/PEI del terreno y de un mapa de densidad kernel en el período siguiente."
    )
