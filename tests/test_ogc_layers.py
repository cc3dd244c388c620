"""OGC layers with data: complaints and risk factors (role rules, real clients) and MVT tiles.

OWSLib and GDAL talk to a separate server process, which sees only committed rows, so this
module commits its data once and deletes it at the end instead of relying on the per-test
rollback.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session

from app import rankings
from app.complaints.ingest import import_complaints
from app.main import create_app
from app.models import ApiKey, Complaint, RiskFactorReport
from app.models.ranking import RankingSnapshot
from app.ogc.tile_routes import tile_settings
from app.settings import DatabaseSettings, TileSettings
from tests.factories.keys import Keys, make_auth_headers
from tests.factories.risk import LANCO_TOWN, make_point, make_report
from tests.helpers import assert_feature_collection, assert_problem

N_COMPLAINTS = 40
TILE_Z = 15


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


@dataclass
class Layers:
    keys: Keys
    complaint_ids: list[str]
    tile: tuple[int, int, int]  # the z15 tile holding every test complaint
    reports: list[str]


@pytest.fixture(scope="module")
def layers(engine: Engine, database_url: str) -> Iterator[Layers]:
    x, y = tile_of(*LANCO_TOWN, TILE_Z)
    minx, miny, maxx, maxy = tile_bounds(TILE_Z, x, y)
    rows = [
        {
            "external_ref": f"OGC-{i:03d}",
            "source": "carabineros" if i % 2 else "pdi",
            "category": "556" if i < 30 else "155",
            "occurred_at": f"2025-{1 + i % 12:02d}-10T12:00:00",
            "lon": minx + (maxx - minx) * (0.2 + 0.6 * (i % 8) / 7),
            "lat": miny + (maxy - miny) * (0.2 + 0.6 * (i // 8) / 4),
            "precision": "exact",
            "address": "Calle secreta 123",
        }
        for i in range(N_COMPLAINTS)
    ]
    with Session(engine) as session:
        first_key = (session.scalar(select(func.max(ApiKey.id))) or 0) + 1
        keys = Keys(session)  # commits each key
        import_complaints(session, rows, loaded_by="pruebas OGC")
        session.commit()
        ids = [
            str(i)
            for i in session.scalars(
                Complaint.__table__.select()
                .with_only_columns(Complaint.id)
                .where(Complaint.external_ref.like("OGC-%"))
            )
        ]
    with TestClient(create_app(DatabaseSettings(database_url=database_url))) as writer:
        reports = [
            make_report(writer, keys, description="Texto libre que no se publica")["id"],
            make_report(writer, keys, geometry=make_point(-72.77, -39.455))["id"],
        ]
    try:
        yield Layers(keys=keys, complaint_ids=ids, tile=(TILE_Z, x, y), reports=reports)
    finally:
        with Session(engine) as session:
            session.execute(delete(Complaint).where(Complaint.external_ref.like("OGC-%")))
            session.execute(delete(RiskFactorReport).where(RiskFactorReport.id.in_(reports)))
            session.execute(delete(ApiKey).where(ApiKey.id >= first_key))
            session.commit()


# --- collections and role rules -----------------------------------------------------------------


def test_collections_list_only_what_the_caller_reads(client: TestClient, layers: Layers) -> None:
    def ids(headers: dict[str, str]) -> set[str]:
        body = client.get("/ogc/collections", headers=headers).json()
        return {c["id"] for c in body["collections"]}

    public = ids({})
    assert "risk-factors-public" in public
    assert not {"complaints", "risk-factors"} & public
    assert {"complaints", "risk-factors"} <= ids(layers.keys.h("planner"))
    unit = ids(layers.keys.h("unit"))
    assert "risk-factors" in unit
    assert "complaints" not in unit


@pytest.mark.parametrize(
    "path",
    [
        "/ogc/collections/complaints",
        "/ogc/collections/complaints/items",
        "/ogc/collections/complaints/queryables",
        "/ogc/collections/complaints/tiles/WebMercatorQuad",
        "/ogc/collections/complaints/tiles/WebMercatorQuad/10/300/600",
    ],
)
def test_keyed_collection_is_401_without_key_and_404_for_other_roles(
    client: TestClient, layers: Layers, path: str
) -> None:
    assert_problem(client.get(path), 401)
    assert_problem(client.get(path, headers=layers.keys.h("unit")), 404, "coleccion_no_encontrada")


def test_complaint_items_hide_address_and_case_reference(
    client: TestClient, layers: Layers
) -> None:
    response = client.get(
        "/ogc/collections/complaints/items",
        params={"limit": 100, "datetime": "2025-01-01T00:00:00Z/2025-12-31T23:59:59Z"},
        headers=layers.keys.h("planner"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert_feature_collection(body)
    assert sorted(f["id"] for f in body["features"]) == sorted(layers.complaint_ids)
    properties = body["features"][0]["properties"]
    assert {"category", "family", "dmcs", "barrio", "micro_barrio", "occurred_at"} <= set(
        properties
    )
    assert not {"address", "external_ref", "loaded_by"} & set(properties)
    assert "secreta" not in response.text
    by_source = {f["properties"]["source"]: f["id"] for f in body["features"]}
    one = client.get(
        f"/ogc/collections/complaints/items/{by_source['carabineros']}",
        headers=layers.keys.h("police"),
    )
    assert one.json()["id"] == by_source["carabineros"]
    other = f"/ogc/collections/complaints/items/{by_source['pdi']}"  # another institution's
    assert_problem(client.get(other, headers=layers.keys.h("police")), 404)
    assert_problem(
        client.get("/ogc/collections/complaints/items/no-es-uuid", headers=layers.keys.h("admin")),
        404,
        "elemento_no_encontrado",
    )


def test_large_complaint_pages_keep_the_police_scope(client: TestClient, layers: Layers) -> None:
    """A large page (once streamed from its own cursor, now one statement) keeps the scope."""
    response = client.get(
        "/ogc/collections/complaints/items", params={"limit": 600}, headers=layers.keys.h("pdi")
    )
    assert response.status_code == 200
    features = response.json()["features"]
    assert len(features) == N_COMPLAINTS // 2
    assert {f["properties"]["source"] for f in features} == {"pdi"}


def test_complaint_pages_are_ordered_by_key_and_page_through(
    client: TestClient, layers: Layers
) -> None:
    headers = layers.keys.h("planner")
    seen: list[str] = []
    url: str | None = "/ogc/collections/complaints/items?limit=15&filter=category='556'"
    while url:
        body = client.get(url, headers=headers).json()
        assert_feature_collection(body)
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert len(seen) == 30
    assert seen == sorted(seen)


def test_risk_factors_scope_by_role_and_public_is_generalised(
    client: TestClient, layers: Layers
) -> None:
    def features(path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
        body = client.get(path, params={"limit": 50}, headers=headers).json()
        assert_feature_collection(body)
        return list(body["features"])

    exact = features("/ogc/collections/risk-factors/items", layers.keys.h("planner"))
    assert len(exact) == 2
    assert "description" not in exact[0]["properties"]
    assert "officer_id" not in exact[0]["properties"]
    assert features("/ogc/collections/risk-factors/items", layers.keys.h("pdi")) == []
    assert len(features("/ogc/collections/risk-factors/items", layers.keys.h("police"))) == 2
    public = features("/ogc/collections/risk-factors-public/items", {})
    assert {f["id"] for f in public} == {f["id"] for f in exact}
    for item in public:
        assert item["geometry"]["coordinates"] != list(LANCO_TOWN)
        assert item["properties"]["location_precision"] in {"micro_barrio", "barrio"}
        assert len(item["properties"]["reported_month"]) == 7
    text = client.get("/ogc/collections/risk-factors-public/items").text
    assert "Texto libre" not in text
    assert "CB-12345" not in text


# --- tiles ----------------------------------------------------------------------------------------


def _decode(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return dict(mapbox_vector_tile.decode(response.content))


def test_barrios_tile_holds_every_lanco_barrio(client: TestClient) -> None:
    x, y = tile_of(*LANCO_TOWN, 8)
    extent = client.get("/ogc/collections/barrios").json()["extent"]["spatial"]["bbox"][0]
    assert tile_of(extent[0], extent[1], 8) == tile_of(extent[2], extent[3], 8) == (x, y)
    response = client.get(f"/ogc/collections/barrios/tiles/WebMercatorQuad/8/{x}/{y}")
    layer = _decode(response)["barrios"]
    assert sorted(f["properties"]["code"] for f in layer["features"]) == [
        "B01001",
        "B01002",
        "B01003",
        "B03001",
        "BRUR",
    ]
    assert response.headers["cache-control"].startswith("public")
    assert "vigia-tile-capped" not in response.headers


def test_complaints_tile_points_at_high_zoom(client: TestClient, layers: Layers) -> None:
    z, x, y = layers.tile
    response = client.get(
        f"/ogc/collections/complaints/tiles/WebMercatorQuad/{z}/{x}/{y}",
        headers=layers.keys.h("planner"),
    )
    layer = _decode(response)["complaints"]
    assert len(layer["features"]) == N_COMPLAINTS
    assert {f["geometry"]["type"] for f in layer["features"]} == {"Point"}
    assert {f["properties"]["id"] for f in layer["features"]} == set(layers.complaint_ids)
    assert "address" not in layer["features"][0]["properties"]
    assert response.headers["cache-control"].startswith("private")
    # a neighbouring tile is empty, not an error
    empty = client.get(
        f"/ogc/collections/complaints/tiles/WebMercatorQuad/{z}/{x + 2}/{y}",
        headers=layers.keys.h("planner"),
    )
    assert empty.status_code == 200
    assert mapbox_vector_tile.decode(empty.content) == {}


def test_complaints_tile_is_aggregated_at_low_zoom(client: TestClient, layers: Layers) -> None:
    x, y = tile_of(*LANCO_TOWN, 10)
    response = client.get(
        f"/ogc/collections/complaints/tiles/WebMercatorQuad/10/{x}/{y}",
        headers=layers.keys.h("planner"),
    )
    layer = _decode(response)["complaints"]
    counts = [f["properties"]["count"] for f in layer["features"]]
    assert sum(counts) == N_COMPLAINTS
    assert len(counts) < N_COMPLAINTS  # cells, not points
    assert set(layer["features"][0]["properties"]) == {"count"}
    assert response.headers["vigia-tile-aggregated"] == "true"


def _tile_count(client: TestClient, layers: Layers, z: int, **params: str) -> int:
    x, y = tile_of(*LANCO_TOWN, z)
    response = client.get(
        f"/ogc/collections/complaints/tiles/WebMercatorQuad/{z}/{x}/{y}",
        params=params,
        headers=layers.keys.h("planner"),
    )
    features = _decode(response).get("complaints", {"features": []})["features"]
    if z < TileSettings().aggregate_below_zoom:
        return sum(f["properties"]["count"] for f in features)
    return len(features)


@pytest.mark.parametrize("z", [10, TILE_Z])  # cells and points
def test_tiles_apply_datetime_and_property_filters(
    client: TestClient, layers: Layers, z: int
) -> None:
    january = "2025-01-01T00:00:00Z/2025-01-31T23:59:59Z"  # complaints 0, 12, 24, 36
    assert _tile_count(client, layers, z, category="155") == N_COMPLAINTS - 30
    assert _tile_count(client, layers, z, datetime=january) == 4
    assert _tile_count(client, layers, z, datetime=january, category="556") == 3
    assert _tile_count(client, layers, z, datetime="2025-07-01T00:00:00Z/..") == 18
    # the statement cache is keyed by the filter's shape: the unfiltered tile is whole again
    assert _tile_count(client, layers, z) == N_COMPLAINTS


@pytest.mark.parametrize(
    ("params", "field"),
    [({"colour": "red"}, "colour"), ({"datetime": "ayer"}, "datetime"), ({"dmcs": "tal"}, "dmcs")],
)
def test_bad_tile_filters_are_problems(
    client: TestClient, layers: Layers, params: dict[str, str], field: str
) -> None:
    z, x, y = layers.tile
    response = client.get(
        f"/ogc/collections/complaints/tiles/WebMercatorQuad/{z}/{x}/{y}",
        params=params,
        headers=layers.keys.h("planner"),
    )
    assert_problem(response, 400)
    assert response.json()["errors"][0]["field"] == field


def test_aggregated_cells_match_postgis_projection(
    client: TestClient, layers: Layers, engine: Engine
) -> None:
    """Cells are computed with the Mercator formulas; PostGIS's ST_Transform must agree."""
    z = 12
    x, y = tile_of(*LANCO_TOWN, z)
    response = client.get(
        f"/ogc/collections/complaints/tiles/WebMercatorQuad/{z}/{x}/{y}",
        headers=layers.keys.h("planner"),
    )
    assert response.status_code == 200
    decoded = mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": True})
    drawn = {
        (f["geometry"]["coordinates"][0], f["geometry"]["coordinates"][1]): f["properties"]["count"]
        for f in decoded["complaints"]["features"]
    }
    cell = TileSettings().cell_px
    with Session(engine) as session:
        expected = {
            (int(cx) * cell + cell // 2, int(cy) * cell + cell // 2): n
            for cx, cy, n in session.execute(
                text(
                    "SELECT floor((ST_X(m) - ST_XMin(e)) / ((ST_XMax(e) - ST_XMin(e)) / :cells)),"
                    "       floor((ST_YMax(e) - ST_Y(m)) / ((ST_XMax(e) - ST_XMin(e)) / :cells)),"
                    "       count(*)"
                    "  FROM ST_TileEnvelope(:z, :x, :y) AS e,"
                    "       LATERAL (SELECT ST_Transform(geom, 3857) AS m FROM complaint) AS p"
                    " WHERE ST_Intersects(m, e) GROUP BY 1, 2"
                ),
                {"z": z, "x": x, "y": y, "cells": 4096 // cell},
            )
        }
    assert len(expected) > 3  # the test complaints spread over several cells at this zoom
    assert drawn == expected


def test_points_are_capped_per_tile(app: Any, layers: Layers) -> None:
    app.dependency_overrides[tile_settings] = lambda: TileSettings(max_points=7)
    z, x, y = layers.tile
    try:
        with TestClient(app) as capped_client:
            response = capped_client.get(
                f"/ogc/collections/complaints/tiles/WebMercatorQuad/{z}/{x}/{y}",
                headers=layers.keys.h("planner"),
            )
    finally:
        app.dependency_overrides.pop(tile_settings, None)
    ids = [f["properties"]["id"] for f in _decode(response)["complaints"]["features"]]
    assert ids == sorted(layers.complaint_ids)[:7]  # the first by key: reproducible
    assert response.headers["vigia-tile-capped"] == "7"


def test_tile_etag_answers_304(client: TestClient) -> None:
    x, y = tile_of(*LANCO_TOWN, 12)
    url = f"/ogc/collections/micro-barrios/tiles/WebMercatorQuad/12/{x}/{y}"
    first = client.get(url)
    etag = first.headers["etag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(url, headers={"If-None-Match": '"otra"'}).status_code == 200


@pytest.mark.parametrize(
    ("zxy", "status", "field"),
    [("23/0/0", 400, "z"), ("-1/0/0", 400, "z"), ("3/8/0", 404, None), ("3/0/8", 404, None)],
)
def test_bad_tile_coordinates_are_problems(
    client: TestClient, zxy: str, status: int, field: str | None
) -> None:
    body = assert_problem(
        client.get(f"/ogc/collections/barrios/tiles/WebMercatorQuad/{zxy}"), status
    )
    if field:
        assert body["errors"][0]["field"] == field
    else:
        assert body["code"] == "tesela_fuera_de_rango"


def test_tilejson_describes_the_layer(client: TestClient, layers: Layers) -> None:
    body = client.get(
        "/ogc/collections/complaints/tiles/WebMercatorQuad", headers=layers.keys.h("planner")
    ).json()
    assert body["tilejson"] == "3.0.0"
    assert body["tiles"][0].endswith(
        "/ogc/collections/complaints/tiles/WebMercatorQuad/{z}/{x}/{y}"
    )
    assert body["vector_layers"][0]["id"] == "complaints"
    assert "category" in body["vector_layers"][0]["fields"]
    assert -73 < body["bounds"][0] < body["bounds"][2] < -72
    tms = client.get("/ogc/tileMatrixSets/WebMercatorQuad").json()
    assert len(tms["tileMatrices"]) == 23


# --- real clients -----------------------------------------------------------------------------


@pytest.fixture
def owslib_headers() -> Iterator[None]:
    """OWSLib adds a client's headers to its module-wide defaults (owslib.ogcapi),
    so a key given to one client would be sent by every later one: put them back."""
    from owslib.ogcapi import REQUEST_HEADERS

    saved = dict(REQUEST_HEADERS)
    yield
    REQUEST_HEADERS.clear()
    REQUEST_HEADERS.update(saved)


@pytest.mark.usefixtures("owslib_headers")
def test_owslib_reads_complaints_with_bbox_and_cql2(live_server: str, layers: Layers) -> None:
    from owslib.ogcapi.features import Features

    api = Features(live_server + "/ogc", headers=make_auth_headers(layers.keys.planner))
    assert "complaints" in {c["id"] for c in api.collections()["collections"]}
    minx, miny, maxx, maxy = tile_bounds(*layers.tile)
    west_half = [minx, miny, (minx + maxx) / 2, maxy]
    page = api.collection_items("complaints", bbox=west_half, limit=100)
    assert_feature_collection(page)
    assert 0 < len(page["features"]) < N_COMPLAINTS
    assert all(f["geometry"]["coordinates"][0] <= west_half[2] for f in page["features"])
    filtered = api.collection_items(
        "complaints", filter="category = '155' AND source = 'pdi'", limit=100
    )
    assert_feature_collection(filtered)
    assert len(filtered["features"]) == 5


def test_gdal_reads_the_public_risk_factors(live_server: str, layers: Layers) -> None:
    import pyogrio

    frame = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer="risk-factors-public")
    assert len(frame) == 2
    assert {"type", "status", "reported_month", "micro_barrio"} <= set(frame.columns)
    assert "description" not in frame.columns


# --- the ranking layers read stored snapshots -------------------------------------------------


@pytest.fixture(scope="module")
def stored_ranking(engine: Engine, layers: Layers) -> Iterator[uuid.UUID]:
    with Session(engine) as session:
        snapshot = rankings.compute_snapshot(
            session,
            level="micro_barrio",
            comuna="14103",
            period_end=date(2025, 12, 31),
            months=12,
            profile_name=None,
            profile_version=None,
            computed_by="pruebas OGC",
        )
        session.commit()
        snapshot_id = snapshot.id
    try:
        yield snapshot_id
    finally:
        with Session(engine) as session:
            session.execute(delete(RankingSnapshot).where(RankingSnapshot.id == snapshot_id))
            session.commit()


def test_ranking_layer_serves_the_stored_snapshot(
    client: TestClient, layers: Layers, stored_ranking: uuid.UUID
) -> None:
    headers = layers.keys.h("planner")
    stored = client.get(
        "/api/v1/rankings/latest", params={"level": "micro_barrio"}, headers=headers
    ).json()
    assert stored["id"] == str(stored_ranking)
    expected = {u["code"]: (u["rank"], u["class"]) for u in stored["units"]}
    page = client.get(
        "/ogc/collections/ranking-micro-barrios/items", params={"limit": 50}, headers=headers
    )
    body = page.json()
    assert_feature_collection(body)
    served = {
        f["id"]: (f["properties"]["rank"], f["properties"]["class"]) for f in body["features"]
    }
    assert served == expected
    assert {f["properties"]["snapshot"] for f in body["features"]} == {str(stored_ranking)}
    critical = client.get(
        "/ogc/collections/ranking-micro-barrios/items",
        params={"filter": "rank <= 3"},
        headers=headers,
    ).json()
    assert sorted(f["properties"]["rank"] for f in critical["features"]) == [1, 2, 3]
    assert_problem(client.get("/ogc/collections/ranking-micro-barrios/items"), 401)


def test_ranking_tile_carries_class_and_rank(
    client: TestClient, layers: Layers, stored_ranking: uuid.UUID
) -> None:
    x, y = tile_of(*LANCO_TOWN, 12)
    response = client.get(
        f"/ogc/collections/ranking-micro-barrios/tiles/WebMercatorQuad/12/{x}/{y}",
        headers=layers.keys.h("planner"),
    )
    features = _decode(response)["ranking-micro-barrios"]["features"]
    assert features
    assert all(f["properties"]["class"] in {"crítico", "alto", "medio", "bajo"} for f in features)
    assert response.headers["cache-control"].startswith("private")


def test_each_tile_is_drawn_from_its_own_coordinates(client: TestClient) -> None:
    """Tile statements are reused across tiles: coordinates must still come from each URL."""
    x, y = tile_of(*LANCO_TOWN, 12)
    base = "/ogc/collections/micro-barrios/tiles/WebMercatorQuad/12"
    town = client.get(f"{base}/{x}/{y}")
    ocean = client.get(f"{base}/{x - 40}/{y}")  # ~400 km west, in the Pacific
    again = client.get(f"{base}/{x}/{y}")
    assert _decode(town)["micro-barrios"]["features"]
    assert ocean.status_code == 200
    assert ocean.content == b""
    assert again.content == town.content
