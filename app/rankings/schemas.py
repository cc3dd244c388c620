"""Ranking schemas: the request that computes one, the snapshot read back, profiles."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from app.api.params import CutCode
from app.api.strict import PlausibleDate

Level = Literal["barrio", "micro_barrio"]


class RankingCreate(BaseModel):
    """What to rank: level, comuna, period and profile (everything but the level optional)."""

    model_config = ConfigDict(extra="forbid")

    level: Level = Field(description="barrio o micro_barrio.")
    comuna: CutCode | None = Field(
        default=None,
        description="Código CUT; opcional si hay una sola comuna cargada.",
        examples=["14103"],
    )
    period_end: PlausibleDate | None = Field(
        default=None,
        description=(
            "Último día incluido del período (AAAA-MM-DD). Por defecto, el último día del "
            "último mes completo en hora de Chile."
        ),
        examples=["2026-10-31"],
    )
    months: StrictInt = Field(default=12, ge=1, le=60, description="Meses del período (1-60).")
    profile: str | None = Field(
        default=None,
        max_length=64,
        description="Perfil de pesos; por defecto vigia-barrio o vigia-micro-barrio.",
    )
    profile_version: StrictInt | None = Field(
        default=None, ge=1, description="Versión del perfil; por defecto, la última."
    )


class ProfileRef(BaseModel):
    name: str
    version: int
    weights: dict[str, float]


class PeriodRead(BaseModel):
    start: date = Field(description="Primer día incluido.")
    end: date = Field(description="Último día incluido.")


class UncertaintyRead(BaseModel):
    """How sure the rank and class are (method 2): bootstrap and weight sensitivity."""

    summary: str = Field(description='En palabras: "lugar 4 de 19, entre 2 y 8".')
    class_summary: str = Field(
        description='En palabras: "crítico (en 92 % de los remuestreos)" o "…, inestable".'
    )

    rank_low: int = Field(description="Lugar en el percentil 5 del remuestreo (bootstrap).")
    rank_high: int = Field(description="Lugar en el percentil 95 del remuestreo.")
    class_probability: dict[str, float] = Field(
        description="Probabilidad de cada clase en el remuestreo (crítico, alto, medio, bajo)."
    )
    class_stable: bool = Field(
        description="true si el remuestreo mantiene la clase en al menos el 80 % de los casos."
    )
    sensitivity_rank_low: int = Field(
        description="Mejor lugar (p5) al variar cada peso entre la mitad y 1,5 veces."
    )
    sensitivity_rank_high: int = Field(description="Peor lugar (p95) al variar los pesos.")
    dmcs_rate_low: float | None = Field(
        description="Tasa DMCS por 1.000 hab.: límite inferior del intervalo posterior del 90 %."
    )
    dmcs_rate_high: float | None = Field(description="Límite superior del mismo intervalo.")


class SignalRead(BaseModel):
    """Whether a variable shows differences between units beyond chance in this period."""

    test: str = Field(description="Prueba aplicada.")
    statistic: float | None
    p_value: float | None = Field(description="p (o q tras Benjamini-Hochberg).")
    p_adjusted: float | None = Field(
        default=None,
        description="p corregido por Holm entre las variables ponderadas; señal si <= 0,05.",
    )
    signal: bool = Field(description="false: la variable no aporta puntos en este ranking.")


class MethodRead(BaseModel):
    version: str = Field(description="Versión del método (docs/metodologia.md).")
    signal: dict[str, SignalRead] | None = Field(
        default=None, description="Método 2: prueba de señal de cada variable."
    )
    weight_without_signal: float | None = Field(
        default=None,
        description="Método 2: puntos (de 100) de variables sin señal, que no se reparten.",
    )
    signal_summary: str | None = Field(
        default=None, description="Método 2: lo anterior en una frase para el concejo."
    )


class RankingUnitRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    code: str
    name: str
    rank: int = Field(description="1 = más crítico.")
    score: float = Field(description="Índice 0-100: suma de las contribuciones.")
    class_: str = Field(alias="class", description="crítico, alto, medio o bajo.")
    raw: dict[str, float | None] = Field(description="Valor de cada variable, en su unidad.")
    normalised: dict[str, float | None] = Field(description="Cada variable llevada a [0, 1].")
    contributions: dict[str, float | None] = Field(
        description=(
            "Puntos que aporta cada variable al índice (100 · peso · normalizado / Σ pesos)."
        )
    )
    top_variables: list[str] = Field(description="Las variables que más aportan.")
    population: int | None
    population_estimated: bool
    uncertainty: UncertaintyRead | None = Field(
        default=None, description="Intervalos (método 2); null en rankings del método 1."
    )


class RankingRead(BaseModel):
    """A stored ranking: cite its id; recompute it with POST /rankings/{id}/recompute."""

    id: uuid.UUID
    level: Level
    comuna: str
    profile: ProfileRef
    period: PeriodRead
    input_fingerprint: str = Field(description="SHA-256 de entradas, perfil, período y método.")
    result_fingerprint: str = Field(description="SHA-256 de los números publicados.")
    computed_at: datetime
    method: MethodRead
    units: list[RankingUnitRead]


class FingerprintCheck(BaseModel):
    stored: str
    recomputed: str
    matches: bool


class Difference(BaseModel):
    unit: str
    field: str
    stored: object | None
    recomputed: object | None


class CurrentData(BaseModel):
    input_fingerprint: str = Field(description="Huella de las entradas con los datos de hoy.")
    matches: bool = Field(
        description="false si llegaron denuncias o factores tardíos para ese período."
    )


class VerificationRead(BaseModel):
    """Recomputed from the stored inputs: do fingerprints and every number match?"""

    id: uuid.UUID
    matches: bool = Field(description="true si huellas y todos los números coinciden.")
    input_fingerprint: FingerprintCheck
    result_fingerprint: FingerprintCheck
    differences: list[Difference] = Field(description="Primeras diferencias, si las hay.")
    software: dict[str, dict[str, str]] = Field(
        description="Versiones de las bibliotecas al calcular (`stored`) y ahora (`current`)."
    )
    current_data: CurrentData


class ProfileCreate(BaseModel):
    """A new version of a named profile (or version 1 of a new name).

    Fields left out are copied from the latest version, so a revision can send only weights.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$", examples=["vigia-micro-barrio"])
    weights: dict[str, StrictFloat] = Field(
        min_length=1,
        description="Peso >= 0 por variable (dmcs_rate, ..., hotspot, ext_<nombre>).",
    )
    normalisation: Literal["min_max", "percentil"] | None = None
    classifier: Literal["fisher_jenks", "cuantiles"] | None = None
    inverted: list[str] | None = Field(
        default=None, description="Variables en que un valor más bajo es peor."
    )
    risk_factor_weights: dict[str, StrictFloat] | None = Field(
        default=None, description="Peso por tipo de factor de riesgo."
    )
    risk_factor_weights_from: uuid.UUID | None = Field(
        default=None,
        description=(
            "Id de un modelo de terreno de riesgo guardado: el peso de cada tipo de factor "
            "retenido es su riesgo relativo (RRV); los no retenidos no pesan. Excluye "
            "risk_factor_weights; la descripción de la versión cita el modelo."
        ),
    )
    method: Literal[1, 2] | None = Field(
        default=None, description="Método de cálculo (docs/metodologia.md); 2 por defecto."
    )
    smoothing: Literal["global", "espacial"] | None = Field(
        default=None, description="Método 2: prior del suavizamiento (global o espacial)."
    )
    description: str = Field(default="", max_length=2000, description="Por qué este cambio.")


class ProfileRead(BaseModel):
    name: str
    version: int
    weights: dict[str, float]
    normalisation: str
    classifier: str
    inverted: list[str]
    risk_factor_weights: dict[str, float]
    method: int = 1
    smoothing: str = "global"
    description: str
    created_at: datetime
    created_by: str
