"""The JSON documents of OGC API - Features and Tiles, and TileJSON.

Field names are the standards' own (camelCase, `$schema`), so a document reads as the spec.
Optional members are None and left out of the answer (`response_model_exclude_none`).
"""

from typing import Any, Literal

from geojson_pydantic import Feature
from geojson_pydantic.geometries import Geometry
from pydantic import BaseModel, ConfigDict, Field

from app.ogc.items import NUMBER_MATCHED_CAP


class OgcLink(BaseModel):
    """A link of an OGC document (`templated`: the href holds `{z}/{x}/{y}`)."""

    rel: str
    type: str
    href: str
    title: str | None = None
    templated: bool | None = None


class LandingRead(BaseModel):
    title: str
    description: str
    links: list[OgcLink]


class ConformanceRead(BaseModel):
    conformsTo: list[str]


class SpatialExtent(BaseModel):
    bbox: list[list[float]] = Field(description="[minlon, minlat, maxlon, maxlat] (CRS84).")
    crs: str


class TemporalExtent(BaseModel):
    interval: list[list[str | None]] = Field(description="[inicio, fin]; null = abierto.")


class Extent(BaseModel):
    spatial: SpatialExtent | None = None
    temporal: TemporalExtent | None = None


class CollectionRead(BaseModel):
    id: str
    title: str
    description: str
    keywords: list[str]
    itemType: Literal["feature"]
    crs: list[str]
    storageCrs: str
    links: list[OgcLink]
    extent: Extent | None = None


class CollectionsRead(BaseModel):
    links: list[OgcLink]
    collections: list[CollectionRead]


class QueryablesRead(BaseModel):
    """JSON Schema of the filterable properties (answered as application/schema+json)."""

    model_config = ConfigDict(populate_by_name=True)

    schema_uri: str = Field(alias="$schema")
    id_uri: str = Field(alias="$id")
    type: Literal["object"]
    title: str
    properties: dict[str, dict[str, Any]]
    additionalProperties: bool


class ItemFeature(Feature[Geometry, dict[str, Any]]):
    """A feature of any collection: its properties are the collection's queryables."""


class ItemRead(ItemFeature):
    links: list[OgcLink] | None = None


class ItemsRead(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[ItemFeature]
    numberReturned: int
    numberMatched: int | None = Field(
        default=None,
        description=f"Todos los que cumplen el filtro; se omite sobre {NUMBER_MATCHED_CAP}.",
    )
    links: list[OgcLink]


class TileMatrixSetRef(BaseModel):
    id: str
    uri: str
    links: list[OgcLink]


class TileMatrixSetsRead(BaseModel):
    tileMatrixSets: list[TileMatrixSetRef]


class TileMatrix(BaseModel):
    id: str
    scaleDenominator: float
    cellSize: float
    cornerOfOrigin: Literal["topLeft"]
    pointOfOrigin: tuple[float, float]
    tileWidth: int
    tileHeight: int
    matrixWidth: int
    matrixHeight: int


class TileMatrixSetRead(BaseModel):
    id: str
    title: str
    uri: str
    crs: str
    orderedAxes: list[str]
    tileMatrices: list[TileMatrix]


class TilesetRead(BaseModel):
    title: str
    dataType: Literal["vector"]
    crs: str
    tileMatrixSetURI: str
    links: list[OgcLink]


class TilesetsRead(BaseModel):
    links: list[OgcLink]
    tilesets: list[TilesetRead]


class VectorLayer(BaseModel):
    id: str
    description: str
    minzoom: int
    maxzoom: int
    fields: dict[str, str]


class TileJSONRead(BaseModel):
    tilejson: Literal["3.0.0"]
    name: str
    description: str
    scheme: Literal["xyz"]
    tiles: list[str]
    minzoom: int
    maxzoom: int
    bounds: list[float]
    center: tuple[float, float, int] = Field(description="lon, lat, zoom.")
    vector_layers: list[VectorLayer]
