from pydantic import BaseModel, Field


class BasemapRead(BaseModel):
    url: str = Field(description="Plantilla XYZ de teselas ({z}/{x}/{y}).")
    attribution: str
    max_zoom: int


class VariableRead(BaseModel):
    label: str = Field(description="Nombre de la variable del ranking, en español.")
    unit: str
    description: str


class MapConfigRead(BaseModel):
    basemap: BasemapRead | None = Field(
        description="Mapa base opcional (VIGIA_BASEMAP_URL); nulo: fondo liso, sin internet."
    )
    variables: dict[str, VariableRead] = Field(
        description="Variables del ranking con su nombre en español (para el desglose)."
    )
