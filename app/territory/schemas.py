from geojson_pydantic import Feature, FeatureCollection, MultiPolygon
from pydantic import BaseModel, Field


class BarrioProperties(BaseModel):
    code: str
    name: str
    comuna: str = Field(description="Código CUT de la comuna.")
    population: int | None = Field(description="Población (Censo 2017 u otra fuente).")
    population_estimated: bool
    micro_barrios: int = Field(description="Cantidad de micro-barrios que contiene.")


class MicroBarrioProperties(BaseModel):
    code: str
    name: str
    comuna: str
    barrio: str = Field(description="Código del barrio que lo contiene.")
    population: int | None
    population_estimated: bool


BarrioFeature = Feature[MultiPolygon, BarrioProperties]
BarrioCollection = FeatureCollection[BarrioFeature]
MicroBarrioCollection = FeatureCollection[Feature[MultiPolygon, MicroBarrioProperties]]


class UnitRef(BaseModel):
    code: str
    name: str


class LocationRead(BaseModel):
    lon: float
    lat: float
    comuna: UnitRef
    barrio: UnitRef
    micro_barrio: UnitRef | None = Field(
        description="Nulo cuando el barrio no se divide en micro-barrios (p. ej. zona rural)."
    )
    on_boundary: bool = Field(
        description="El punto está en el límite entre unidades; se asignó la de menor código."
    )
