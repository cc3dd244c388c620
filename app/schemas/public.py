from typing import Literal

from pydantic import BaseModel, Field

Count = int | str
COUNT_DOC = 'Cantidad, "<5" (1 a 4), "<10" (sensibles, 1 a 9) o "suprimido" (complementaria).'


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
