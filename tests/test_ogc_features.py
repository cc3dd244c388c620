"""OGC API - Features: the documents, paging, filters, and real clients (OWSLib, GDAL)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_feature_collection, assert_problem


def test_landing_links_to_conformance_and_collections(client: TestClient) -> None:
    body = client.get("/ogc").json()
    rels = {link["rel"] for link in body["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels


def test_conformance_declares_core_geojson_and_cql2(client: TestClient) -> None:
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in classes


def test_public_collections_have_extent_and_links(client: TestClient) -> None:
    collections = {c["id"]: c for c in client.get("/ogc/collections").json()["collections"]}
    assert {"barrios", "micro-barrios"} <= set(collections)
    minx, miny, maxx, maxy = collections["barrios"]["extent"]["spatial"]["bbox"][0]
    assert -73 < minx < maxx < -72
    assert -40 < miny < maxy < -39
    assert any(link["rel"] == "items" for link in collections["barrios"]["links"])


def test_items_page_through_with_next_and_prev(client: TestClient) -> None:
    first = client.get("/ogc/collections/micro-barrios/items", params={"limit": 10})
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/geo+json"
    body = first.json()
    assert_feature_collection(body)
    assert body["numberReturned"] == 10
    next_href = next(link["href"] for link in body["links"] if link["rel"] == "next")
    second = client.get(next_href).json()
    assert second["numberReturned"] == 9
    assert not any(link["rel"] == "next" for link in second["links"])
    assert any(link["rel"] == "prev" for link in second["links"])
    ids = [f["id"] for f in body["features"]] + [f["id"] for f in second["features"]]
    assert len(set(ids)) == 19


def test_bbox_keeps_only_intersecting_items(client: TestClient) -> None:
    malalhue = "-72.52,-39.55,-72.49,-39.53"
    body = client.get("/ogc/collections/barrios/items", params={"bbox": malalhue}).json()
    assert {f["id"] for f in body["features"]} == {"B03001", "BRUR"}


def test_property_filter_and_cql2(client: TestClient) -> None:
    by_param = client.get(
        "/ogc/collections/micro-barrios/items", params={"barrio": "B01002"}
    ).json()
    assert {f["properties"]["barrio"] for f in by_param["features"]} == {"B01002"}
    cql = client.get(
        "/ogc/collections/barrios/items",
        params={"filter": "population > 3000 AND name LIKE 'Lanco%'"},
    ).json()
    assert [f["id"] for f in cql["features"]] == ["B01003", "BRUR"]
    spatial = client.get(
        "/ogc/collections/barrios/items",
        params={"filter": "S_INTERSECTS(geometry, POINT(-72.775 -39.452))"},
    ).json()
    assert [f["id"] for f in spatial["features"]] == ["B01001"]


def test_cql2_json(client: TestClient) -> None:
    import orjson

    expression = {"op": "=", "args": [{"property": "code"}, "B01002"]}
    body = client.get(
        "/ogc/collections/barrios/items",
        params={"filter": orjson.dumps(expression).decode(), "filter-lang": "cql2-json"},
    ).json()
    assert [f["id"] for f in body["features"]] == ["B01002"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"filter": "population >>> 3"}, "filter"),
        ({"filter": "secreto = 1"}, "filter"),
        ({"filter": "population = 'mucho'"}, "filter"),
        ({"filter": "code = 'x'; DROP TABLE barrio; --"}, "filter"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "-72,-30,-73,-40"}, "bbox"),
        ({"datetime": "2024-01-01T00:00:00Z"}, "datetime"),
        ({"population": "muchos"}, "population"),
        ({"color": "rojo"}, "color"),
    ],
)
def test_bad_parameters_are_400_problems(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    body = assert_problem(client.get("/ogc/collections/barrios/items", params=params), 400)
    assert body["errors"][0]["field"] == field
    assert client.get("/ogc/collections/barrios/items").json()["numberReturned"] == 5


def test_limit_is_capped(client: TestClient) -> None:
    body = assert_problem(
        client.get("/ogc/collections/barrios/items", params={"limit": 10_001}), 422
    )
    assert body["errors"][0]["field"] == "limit"


def test_single_item_and_missing_one(client: TestClient) -> None:
    item = client.get("/ogc/collections/barrios/items/B01003")
    assert item.status_code == 200
    assert item.json()["id"] == "B01003"
    assert_problem(client.get("/ogc/collections/barrios/items/NADA"), 404, "elemento_no_encontrado")
    assert_problem(client.get("/ogc/collections/nada/items"), 404, "coleccion_no_encontrada")


def test_queryables_are_a_json_schema(client: TestClient) -> None:
    response = client.get("/ogc/collections/micro-barrios/queryables")
    assert response.headers["content-type"].startswith("application/schema+json")
    properties = response.json()["properties"]
    assert {"geometry", "code", "barrio", "population"} <= set(properties)


def test_owslib_lists_collections_and_reads_items(live_server: str) -> None:
    from owslib.ogcapi.features import Features

    api = Features(live_server + "/ogc")
    ids = {c["id"] for c in api.collections()["collections"]}
    assert {"barrios", "micro-barrios"} <= ids
    page = api.collection_items("barrios", bbox=[-72.52, -39.55, -72.49, -39.53])
    assert {f["id"] for f in page["features"]} == {"B03001", "BRUR"}
    filtered = api.collection_items("micro-barrios", filter="barrio = 'B01003'", limit=50)
    assert len(filtered["features"]) == 5


def test_gdal_oapif_driver_reads_a_collection(live_server: str) -> None:
    import pyogrio

    frame = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer="micro-barrios")
    assert len(frame) == 19
    assert {"code", "barrio", "population"} <= set(frame.columns)
    assert frame.geometry.is_valid.all()


def test_reused_statements_take_each_requests_values(client: TestClient) -> None:
    """Page statements are built once per shape of query; the values are each request's."""

    def ids(collection: str, **params: str) -> set[str]:
        response = client.get(f"/ogc/collections/{collection}/items", params=params)
        assert response.status_code == 200, response.text
        return {f["id"] for f in response.json()["features"]}

    malalhue = "-72.52,-39.55,-72.49,-39.53"
    everything = ids("barrios", limit="100")
    assert ids("barrios", bbox=malalhue) == {"B03001", "BRUR"}
    assert ids("barrios", bbox="-180,-90,180,90") == everything
    assert ids("barrios", bbox=malalhue) == {"B03001", "BRUR"}
    first = ids("micro-barrios", barrio="B01002", limit="100")
    other = ids("micro-barrios", barrio="B03001", limit="100")
    assert first
    assert other
    assert not first & other
    assert ids("micro-barrios", barrio="B01002", limit="100") == first
    assert len(ids("micro-barrios", limit="3")) == 3
    assert len(ids("micro-barrios", limit="7")) == 7
