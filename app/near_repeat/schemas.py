from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class NearRepeatCellRead(BaseModel):
    distance_band: str = Field(description="Banda de distancia entre los dos hechos.")
    time_band: str = Field(description="Banda de días entre los dos hechos.")
    observed: int = Field(description="Pares de hechos observados en la celda.")
    expected: float = Field(description="Media de pares en las permutaciones de las fechas.")
    ratio: float | None = Field(description="Observado / esperado (razón de Knox).")
    p_value: float = Field(
        description="Valor p de Monte Carlo, unilateral: (1 + #sim ≥ obs) / (1 + R)."
    )
    significant: bool = Field(description="p < alfa y razón > 1.")
    reading: str | None = Field(description="Lectura en palabras (solo celdas significativas).")


class NearRepeatRead(BaseModel):
    comuna: str
    category: str
    category_name: str
    period_start: date
    period_end: date = Field(description="Primer día después del período (intervalo semiabierto).")
    events: int
    pairs: int
    permutations: int
    seed: int
    alpha: float
    crs: str = Field(description="Sistema métrico en que se miden las distancias.")
    distance_bands: list[str]
    time_bands: list[str]
    cells: list[NearRepeatCellRead]
