"""OGC API - Features: Part 1 Core (GeoJSON, OpenAPI 3.0) and Part 3 CQL2 filtering."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import orjson
from fastapi import Path, Query, Request, Response
from fastapi.responses import JSONResponse

from app.api.deps import CallerDep, EngineDep, SessionDep, in_worker
from app.api.params import OgcBboxQuery
from app.api.responses import GeoJSONResponse
from app.api.routing import PrefixedRouter
from app.api.schemas import problem_responses
from app.geojson import GEOJSON_MEDIA_TYPE
from app.ogc import api_doc, filters, items, response_cache
from app.ogc.collections import REGISTRY, Collection, readable_collection, territory_bbox
from app.ogc.params import CollectionId, ogc_base
from app.ogc.schemas import (
    CollectionRead,
    CollectionsRead,
    ConformanceRead,
    Extent,
    ItemRead,
    ItemsRead,
    LandingRead,
    OgcLink,
    QueryablesRead,
    SpatialExtent,
    TemporalExtent,
)

router = PrefixedRouter(prefix="/ogc", tags=["OGC API - Features"])

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
]
_HEAD = b'{"type":"FeatureCollection","features":['
_RESERVED = {"limit", "offset", "bbox", "bbox-crs", "datetime", "filter", "filter-lang", "f", "crs"}

Limit = Annotated[
    int,
    Query(
        ge=1, le=items.MAX_LIMIT, description=f"Elementos por página (máximo {items.MAX_LIMIT})."
    ),
]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Elementos a saltar (paginación).")]
Datetime = Annotated[
    str | None, Query(description="Instante o intervalo RFC 3339 (`2024-01-01T00:00:00Z/..`).")
]
Filter = Annotated[
    str | None,
    Query(alias="filter", description="Filtro CQL2 (p. ej. `population > 2000`)."),
]
FilterLang = Annotated[
    str,
    Query(alias="filter-lang", pattern="^cql2-(text|json)$", description="cql2-text o cql2-json."),
]


def _collection_doc(
    base: str, collection: Collection, extent: list[float] | None
) -> CollectionRead:
    url = f"{base}/collections/{collection.id}"
    doc = CollectionRead(
        id=collection.id,
        title=collection.title,
        description=collection.description,
        keywords=list(collection.keywords),
        itemType="feature",
        crs=[CRS84],
        storageCrs=CRS84,
        links=[
            OgcLink(rel="self", type="application/json", href=url),
            OgcLink(rel="items", type=GEOJSON_MEDIA_TYPE, href=f"{url}/items", title="Elementos"),
            OgcLink(
                rel="http://www.opengis.net/def/rel/ogc/1.0/queryables",
                type="application/schema+json",
                href=f"{url}/queryables",
                title="Propiedades filtrables",
            ),
            OgcLink(
                rel="http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                type="application/json",
                href=f"{url}/tiles",
                title="Teselas vectoriales (MVT)",
            ),
        ],
    )
    if extent is not None and None not in extent:
        doc.extent = Extent(spatial=SpatialExtent(bbox=[extent], crs=CRS84))
    if collection.datetime_property:
        doc.extent = doc.extent or Extent()
        doc.extent.temporal = TemporalExtent(interval=[[None, None]])
    return doc


@router.get(
    "", operation_id="ogcLanding", response_model=LandingRead, response_model_exclude_none=True
)
def landing(request: Request) -> LandingRead:
    """Página de inicio OGC API - Features."""
    base = ogc_base(request)
    root = str(request.base_url).rstrip("/")
    return LandingRead(
        title="Vigía — OGC API - Features",
        description="Capas territoriales y de seguridad pública comunal de Vigía.",
        links=[
            OgcLink(rel="self", type="application/json", href=base),
            OgcLink(rel="service-desc", type=api_doc.MEDIA_TYPE, href=f"{base}/api"),
            OgcLink(rel="service-doc", type="text/html", href=f"{root}/docs"),
            OgcLink(rel="conformance", type="application/json", href=f"{base}/conformance"),
            OgcLink(rel="data", type="application/json", href=f"{base}/collections"),
        ],
    )


@router.get(
    "/api",
    operation_id="ogcApiDefinition",
    response_class=JSONResponse,
    responses={200: {"content": {api_doc.MEDIA_TYPE: {}}, "description": "OpenAPI 3.0"}},
)
def api_definition(request: Request) -> JSONResponse:
    """Definición OpenAPI de la API OGC, con rutas relativas a su página de inicio."""
    doc = api_doc.ogc_openapi(request.app.openapi(), ogc_base(request))
    return JSONResponse(doc, media_type=api_doc.MEDIA_TYPE)


@router.get("/conformance", operation_id="ogcConformance", response_model=ConformanceRead)
def conformance() -> ConformanceRead:
    """Clases de conformidad implementadas."""
    return ConformanceRead(conformsTo=CONFORMANCE)


@router.get(
    "/collections",
    operation_id="ogcCollections",
    response_model=CollectionsRead,
    response_model_exclude_none=True,
)
def collections(request: Request, caller: CallerDep, engine: EngineDep) -> CollectionsRead:
    """Colecciones visibles para quien consulta."""
    base = ogc_base(request)
    extent = territory_bbox(engine)
    return CollectionsRead(
        links=[OgcLink(rel="self", type="application/json", href=f"{base}/collections")],
        collections=[
            _collection_doc(base, c, extent)
            for c in REGISTRY.values()
            if c.readable_by(caller.role)
        ],
    )


@router.get(
    "/collections/{collection_id}",
    operation_id="ogcCollection",
    response_model=CollectionRead,
    response_model_exclude_none=True,
    responses=problem_responses(401, 404),
)
def collection(
    request: Request, collection_id: CollectionId, caller: CallerDep, engine: EngineDep
) -> CollectionRead:
    """Descripción de una colección."""
    return _collection_doc(
        ogc_base(request), readable_collection(collection_id, caller), territory_bbox(engine)
    )


@router.get(
    "/collections/{collection_id}/queryables",
    operation_id="ogcQueryables",
    response_model=QueryablesRead,
    responses=problem_responses(401, 404),
)
def queryables(request: Request, collection_id: CollectionId, caller: CallerDep) -> JSONResponse:
    """Propiedades por las que se puede filtrar (JSON Schema)."""
    c = readable_collection(collection_id, caller)
    body = QueryablesRead(
        schema_uri="https://json-schema.org/draft/2019-09/schema",
        id_uri=f"{ogc_base(request)}/collections/{c.id}/queryables",
        type="object",
        title=c.title,
        properties=c.queryables_schema(),
        additionalProperties=False,
    )
    return JSONResponse(body.model_dump(by_alias=True), media_type="application/schema+json")


def _link(request: Request, offset: int, limit: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")]
    params += [("limit", str(limit)), ("offset", str(offset))]
    return f"{str(request.url).split('?')[0]}?{urlencode(params)}"


@router.get(
    "/collections/{collection_id}/items",
    operation_id="ogcItems",
    response_class=GeoJSONResponse,
    response_model=ItemsRead,
    responses=problem_responses(400, 401, 404, 422),
)
async def list_items(
    request: Request,
    collection_id: CollectionId,
    caller: CallerDep,
    session: SessionDep,
    bbox: OgcBboxQuery,
    limit: Limit = items.DEFAULT_LIMIT,
    offset: Offset = 0,
    datetime: Datetime = None,
    cql: Filter = None,
    filter_lang: FilterLang = "cql2-text",
) -> Response:
    """Elementos de la colección como FeatureCollection GeoJSON, paginados."""
    # async: parsing is done here on the event loop, and the page's read plus the commit
    # take one worker hop between them (`in_worker`) instead of two
    c = readable_collection(collection_id, caller)
    # a territorial page already read: answered here, without a thread or a connection
    cached = response_cache.lookup(request, c.cacheable)
    if isinstance(cached, Response):
        return cached
    extra = filters.property_filters(c, request.query_params, _RESERVED)
    query = filters.ItemsQuery(
        limit=limit,
        offset=offset,
        bbox=bbox,
        datetime=filters.parse_datetime(datetime),
        properties=extra,
        cql=cql,
        cql_lang=filter_lang,
    )
    self_url = str(request.url)

    def footer(page: items.Page) -> bytes:
        returned, more = page.returned, page.more
        links = [
            {"rel": "self", "type": GEOJSON_MEDIA_TYPE, "href": self_url},
            {
                "rel": "collection",
                "type": "application/json",
                "href": f"{ogc_base(request)}/collections/{c.id}",
            },
        ]
        if more:
            links.append(
                {
                    "rel": "next",
                    "type": GEOJSON_MEDIA_TYPE,
                    "href": _link(request, offset + limit, limit),
                }
            )
        if offset > 0:
            links.append(
                {
                    "rel": "prev",
                    "type": GEOJSON_MEDIA_TYPE,
                    "href": _link(request, max(offset - limit, 0), limit),
                }
            )
        tail: dict[str, object] = {"numberReturned": returned, "links": links}
        if page.matched is not None:
            tail["numberMatched"] = page.matched
        return b"]," + orjson.dumps(tail)[1:]

    page = await in_worker(request, session, items.read_page, session, c, query, caller)
    body = b"".join((_HEAD, page.features, footer(page)))
    return response_cache.keep(request, cached, body, GEOJSON_MEDIA_TYPE)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    operation_id="ogcItem",
    response_class=GeoJSONResponse,
    response_model=ItemRead,
    responses=problem_responses(401, 404),
)
def get_item(
    request: Request,
    collection_id: CollectionId,
    feature_id: Annotated[str, Path(max_length=100, description="Identificador del elemento.")],
    caller: CallerDep,
    session: SessionDep,
) -> GeoJSONResponse:
    """Un elemento como Feature GeoJSON."""
    c = readable_collection(collection_id, caller)
    text = items.read_item(session, c, feature_id, caller)
    body = orjson.loads(text)
    base = f"{ogc_base(request)}/collections/{c.id}"
    body["links"] = [
        {"rel": "self", "type": GEOJSON_MEDIA_TYPE, "href": f"{base}/items/{feature_id}"},
        {"rel": "collection", "type": "application/json", "href": base},
    ]
    return GeoJSONResponse(orjson.dumps(body))
