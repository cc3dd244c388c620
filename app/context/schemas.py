from datetime import datetime
from typing import Any

from geojson_pydantic import (
    Feature,
    FeatureCollection,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)
from pydantic import BaseModel, Field


class ComunaCount(BaseModel):
    comuna: str = Field(description="Código CUT de la comuna.")
    features: int = Field(description="Elementos de esta capa en la comuna.")
    synthetic: int = Field(description="Cuántos de ellos son sintéticos (datos de demostración).")


class ContextLayerRead(BaseModel):
    code: str = Field(description="Código del tipo de capa (p. ej. paradero).")
    label: str
    description: str
    public: bool = Field(description="Visible sin clave de acceso.")
    features: int = Field(description="Elementos cargados (con el filtro de comuna aplicado).")
    comunas: list[ComunaCount]


class ContextLayerList(BaseModel):
    layers: list[ContextLayerRead]


class ContextFeatureProperties(BaseModel):
    type: str = Field(description="Código del tipo de capa.")
    comuna: str = Field(description="Código CUT de la comuna asignada por ubicación.")
    source_name: str = Field(description="Fuente de la carga (p. ej. el nombre del archivo).")
    source_id: str = Field(description="Identificador del elemento en su fuente.")
    synthetic: bool = Field(description="Dato sintético de demostración.")
    loaded_at: datetime
    attributes: dict[str, Any] = Field(description="Propiedades del archivo de origen.")


ContextGeometry = Point | MultiPoint | LineString | MultiLineString | Polygon | MultiPolygon
ContextFeatureCollection = FeatureCollection[Feature[ContextGeometry, ContextFeatureProperties]]
