import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Count = int | str
COUNT_DOC = (
    'Cantidad, "<5" (0 a 4), "<10" (sensibles, 0 a 9) o "suprimido" (complementaria, al menos el'
    ' umbral). Un cero puede mostrarse como "<5" o "<10" para proteger otra celda.'
)


class PublicUnitRead(BaseModel):
    code: str = Field(description='Código del barrio, de la comuna, o "otros".')
    name: str
    population: int = Field(description="Habitantes (Censo); siempre 1.000 o más.")
    merged: int = Field(description="Unidades agrupadas en esta fila.")


class CellRead(BaseModel):
    unit: str
    month: str = Field(examples=["2025-03"])
    count: Count = Field(description=COUNT_DOC)


class UnitTotalRead(BaseModel):
    unit: str
    count: Count = Field(description=COUNT_DOC)


class MonthTotalRead(BaseModel):
    month: str
    count: Count = Field(description=COUNT_DOC)


class QuarterRead(BaseModel):
    quarter: str = Field(examples=["2025-T1"])
    count: Count = Field(description=COUNT_DOC)


class PublicStatsRead(BaseModel):
    """Denuncias por unidad fija y mes, con supresión de celdas pequeñas (docs/privacidad.md)."""

    comuna: str
    level: Literal["comuna", "barrio"]
    year: int
    family: str | None
    units: list[PublicUnitRead]
    months: list[str]
    cells: list[CellRead]
    unit_totals: list[UnitTotalRead]
    month_totals: list[MonthTotalRead]
    total: Count
    sensitive_by_quarter: list[QuarterRead] = Field(
        description="Categorías sensibles: solo comuna completa y por trimestre."
    )
    sensitive_total: Count


class PublicRankedUnitRead(BaseModel):
    code: str = Field(description="Código del barrio.")
    name: str
    class_: str = Field(
        alias="class", description="Clase del ranking: crítico, alto, medio o bajo."
    )
    rank: int = Field(description="Lugar entre los barrios publicados (1 = más crítico).")
    stable: bool | None = Field(
        default=None,
        description=(
            "false: lugar inestable, el remuestreo lo cambia de clase a menudo; "
            "null en rankings calculados con el método 1."
        ),
    )


class PublicPeriodRead(BaseModel):
    start: date
    end: date


class PublicProfileRead(BaseModel):
    name: str
    version: int


class PublicRankingRead(BaseModel):
    """Clases del último ranking de barrios: sin puntajes, valores ni contribuciones."""

    snapshot_id: uuid.UUID = Field(description="Identificador del ranking citado.")
    comuna: str
    level: Literal["barrio"]
    period: PublicPeriodRead
    profile: PublicProfileRead
    computed_at: datetime
    units: list[PublicRankedUnitRead]
    withheld: int = Field(description="Barrios no publicados por tener menos de 1.000 habitantes.")
