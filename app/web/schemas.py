from typing import Any

from pydantic import BaseModel, Field


class BasemapRead(BaseModel):
    url: str = Field(description="Plantilla XYZ de teselas ({z}/{x}/{y}).")
    attribution: str
    max_zoom: int


class VariableRead(BaseModel):
    label: str = Field(description="Nombre de la variable del ranking, en español.")
    unit: str
    description: str = Field(description="Definición técnica (fórmula, códigos).")
    plain: str = Field(
        description="La variable en una frase para el concejo (panel del mapa, boletín)."
    )


class ComunaViewRead(BaseModel):
    code: str = Field(description="Código CUT de la comuna.")
    name: str
    bbox: list[float] = Field(description="Extensión [oeste, sur, este, norte] en grados (WGS 84).")
    population: int | None = Field(description="Habitantes (de la comuna o suma de sus barrios).")
    settled_bbox: list[float] = Field(
        description="Extensión [oeste, sur, este, norte] de la localidad más poblada (el grupo "
        "de micro-barrios contiguos, a menos de ~1 km, con más habitantes): la primera vista "
        "del mapa, no toda la comuna rural. Sin micro-barrios, igual a `bbox`."
    )
    outline: dict[str, Any] = Field(
        description="Contorno de la comuna (GeoJSON simplificado a ~20 m), siempre dibujado."
    )
    census_blocks: int = Field(
        description="Manzanas censales cargadas (colección OGC `manzanas`). Sin mapa base, el "
        "mapa dibuja con ellas un fondo claro; con 0, lo dibuja con los micro-barrios."
    )


class MapConfigRead(BaseModel):
    basemap: BasemapRead | None = Field(
        description="Mapa base opcional (VIGIA_BASEMAP_URL); nulo: fondo liso, sin internet."
    )
    variables: dict[str, VariableRead] = Field(
        description="Variables del ranking con su nombre en español (para el desglose)."
    )
    comunas: list[ComunaViewRead] = Field(
        description="Comunas cargadas, la más poblada primero: la primera vista del mapa es una "
        "comuna (la de `?comuna=` en la dirección de la página, o la primera de esta lista)."
    )


class FieldConfigRead(BaseModel):
    """What a field client needs to know before it takes a report (no secrets)."""

    photo_max_bytes: int = Field(description="Tamaño máximo de una foto (bytes).")
    photo_max_pixels: int = Field(description="Píxeles máximos (ancho × alto) de una foto.")
    photos_per_report: int = Field(description="Fotos máximas por informe.")
    max_vertices: int = Field(description="Vértices máximos de la geometría de un informe.")
