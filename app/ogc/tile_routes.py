"""OGC API - Tiles (vector tiles, WebMercatorQuad) for the OGC API collections, and TileJSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.api.deps import CallerDep, EngineDep, SessionDep, in_worker
from app.api.schemas import problem_responses
from app.ogc import filters, response_cache, tiles
from app.ogc.collections import readable_collection, territory_bbox
from app.ogc.params import CollectionId, ogc_base
from app.ogc.schemas import (
    OgcLink,
    TileJSONRead,
    TileMatrix,
    TileMatrixSetRead,
    TileMatrixSetRef,
    TileMatrixSetsRead,
    TilesetRead,
    TilesetsRead,
    VectorLayer,
)
from app.settings import TileSettings, get_tile_settings

router = APIRouter(tags=["OGC API - Tiles"])  # mounted under /ogc by app.api

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"


async def tile_settings() -> TileSettings:
    """Async so FastAPI resolves it inline instead of in the thread pool (runs per tile)."""
    return get_tile_settings()


TileSettingsDep = Annotated[TileSettings, Depends(tile_settings)]
Zoom = Annotated[int, Path(description="Nivel de zoom (0 a 22).")]
Column = Annotated[int, Path(description="Columna de la tesela (0 a 2^z - 1).")]
Row = Annotated[int, Path(description="Fila de la tesela desde el norte (0 a 2^z - 1).")]
TileDatetime = Annotated[
    str | None,
    Query(
        description=(
            "Solo elementos de este instante o intervalo RFC 3339 (`2024-01-01T00:00:00Z/..`); "
            "las demás claves de la consulta filtran por propiedad (`?category=556`)."
        )
    ),
]
_TILE_RESERVED = {"datetime"}

_ORIGIN = 20037508.3427892
_CELL_0 = 156543.03392804097  # metres per pixel at zoom 0 with 256-pixel tiles
_SCALE_0 = 559082264.0287178


def _template(request: Request, collection_id: str) -> str:
    return f"{ogc_base(request)}/collections/{collection_id}/tiles/{TMS_ID}/{{z}}/{{x}}/{{y}}"


@router.get(
    "/tileMatrixSets",
    operation_id="ogcTileMatrixSets",
    response_model=TileMatrixSetsRead,
    response_model_exclude_none=True,
)
def tile_matrix_sets(request: Request) -> TileMatrixSetsRead:
    """Esquemas de teselado disponibles."""
    href = f"{ogc_base(request)}/tileMatrixSets/{TMS_ID}"
    return TileMatrixSetsRead(
        tileMatrixSets=[
            TileMatrixSetRef(
                id=TMS_ID,
                uri=TMS_URI,
                links=[OgcLink(rel="self", type="application/json", href=href)],
            )
        ]
    )


@router.get(
    f"/tileMatrixSets/{TMS_ID}", operation_id="ogcTileMatrixSet", response_model=TileMatrixSetRead
)
def tile_matrix_set() -> TileMatrixSetRead:
    """Definición de WebMercatorQuad (OGC 2D Tile Matrix Set)."""
    return TileMatrixSetRead(
        id=TMS_ID,
        title="Google Maps Compatible for the World",
        uri=TMS_URI,
        crs="http://www.opengis.net/def/crs/EPSG/0/3857",
        orderedAxes=["X", "Y"],
        tileMatrices=[
            TileMatrix(
                id=str(z),
                scaleDenominator=_SCALE_0 / 2**z,
                cellSize=_CELL_0 / 2**z,
                cornerOfOrigin="topLeft",
                pointOfOrigin=(-_ORIGIN, _ORIGIN),
                tileWidth=256,
                tileHeight=256,
                matrixWidth=2**z,
                matrixHeight=2**z,
            )
            for z in range(tiles.MAX_ZOOM + 1)
        ],
    )


@router.get(
    "/collections/{collection_id}/tiles",
    operation_id="ogcCollectionTilesets",
    response_model=TilesetsRead,
    response_model_exclude_none=True,
    responses=problem_responses(401, 404),
)
def tilesets(request: Request, collection_id: CollectionId, caller: CallerDep) -> TilesetsRead:
    """Conjuntos de teselas vectoriales de la colección."""
    c = readable_collection(collection_id, caller)
    base = f"{ogc_base(request)}/collections/{c.id}/tiles"
    return TilesetsRead(
        links=[OgcLink(rel="self", type="application/json", href=base)],
        tilesets=[
            TilesetRead(
                title=c.title,
                dataType="vector",
                crs="http://www.opengis.net/def/crs/EPSG/0/3857",
                tileMatrixSetURI=TMS_URI,
                links=[
                    OgcLink(rel="self", type="application/json", href=f"{base}/{TMS_ID}"),
                    OgcLink(
                        rel="http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                        type="application/json",
                        href=f"{ogc_base(request)}/tileMatrixSets/{TMS_ID}",
                    ),
                    OgcLink(
                        rel="item",
                        type=tiles.MVT_MEDIA_TYPE,
                        href=_template(request, c.id),
                        templated=True,
                    ),
                ],
            )
        ],
    )


@router.get(
    f"/collections/{{collection_id}}/tiles/{TMS_ID}",
    operation_id="ogcCollectionTileJSON",
    response_model=TileJSONRead,
    responses=problem_responses(401, 404),
)
def tilejson(
    request: Request,
    collection_id: CollectionId,
    caller: CallerDep,
    engine: EngineDep,
    settings: TileSettingsDep,
) -> TileJSONRead:
    """TileJSON 3.0.0 de la colección (para MapLibre, Leaflet, QGIS)."""
    c = readable_collection(collection_id, caller)
    bounds = territory_bbox(engine) or [-180.0, -85.0511287798066, 180.0, 85.0511287798066]
    description = c.title
    if c.geometry_type == "Point":
        description += (
            f" (bajo el zoom {settings.aggregate_below_zoom}: celdas con `count`; desde ahí, "
            f"hasta {settings.max_points} puntos por tesela)"
        )
    return TileJSONRead(
        tilejson="3.0.0",
        name=c.title,
        description=c.description,
        scheme="xyz",
        tiles=[_template(request, c.id)],
        minzoom=0,
        maxzoom=tiles.MAX_ZOOM,
        bounds=bounds,
        center=((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 12),
        vector_layers=[
            VectorLayer(
                id=c.id,
                description=description,
                minzoom=0,
                maxzoom=tiles.MAX_ZOOM,
                fields=tiles.layer_fields(c, None, settings),
            )
        ],
    )


@router.get(
    f"/collections/{{collection_id}}/tiles/{TMS_ID}/{{z}}/{{x}}/{{y}}",
    operation_id="ogcCollectionTile",
    response_class=Response,
    responses={
        200: {"content": {tiles.MVT_MEDIA_TYPE: {}}, "description": "Tesela MVT"},
        304: {"description": "La tesela no cambió (If-None-Match)"},
        **problem_responses(400, 401, 404),
    },
)
async def tile(
    request: Request,
    collection_id: CollectionId,
    z: Zoom,
    x: Column,
    y: Row,
    caller: CallerDep,
    session: SessionDep,
    settings: TileSettingsDep,
    datetime: TileDatetime = None,
) -> Response:
    """Una tesela vectorial (Mapbox Vector Tile) de la colección, filtrable por fecha y por
    propiedad como sus elementos; bajo el zoom de agregación las celdas cuentan solo lo
    filtrado."""
    # async, as `list_items`: the tile's read and the commit in one worker hop
    c = readable_collection(collection_id, caller)
    # a territorial tile already drawn: answered here, without a thread or a connection
    cached = response_cache.lookup(request, c.cacheable)
    if isinstance(cached, Response):
        return cached
    properties = filters.property_filters(c, request.query_params, _TILE_RESERVED)
    tile_filter = filters.tile_filters(c, datetime, properties)
    rendered = await in_worker(
        request, session, tiles.render_tile, session, c, caller, z, x, y, settings, tile_filter
    )
    headers = {
        "ETag": rendered.etag,
        "Cache-Control": (
            f"public, max-age={settings.max_age_s}" if c.is_public else "private, max-age=60"
        ),
        "Vary": "Authorization",
    }
    if rendered.capped:
        headers["Vigia-Tile-Capped"] = str(settings.max_points)
    if rendered.aggregated:
        headers["Vigia-Tile-Aggregated"] = "true"
    if cached is not None:
        return response_cache.keep(
            request, cached, rendered.data, tiles.MVT_MEDIA_TYPE, headers, rendered.etag
        )
    if rendered.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(rendered.data, media_type=tiles.MVT_MEDIA_TYPE, headers=headers)
