"""Reading the territory: GeoJSON layers and point location."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models import Role
from tests.factories.keys import make_auth_headers, make_key
from tests.helpers import assert_feature_collection, assert_matches_schema, assert_problem

LANCO_TOWN = (-72.775, -39.452)  # Lanco town centre
RURAL = (-72.70, -39.50)  # fields south of the town: the rural remainder
SANTIAGO = (-70.65, -33.45)


def test_barrios_are_a_valid_feature_collection(
    client: TestClient, openapi: dict[str, Any]
) -> None:
    response = client.get("/api/v1/barrios")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert_feature_collection(body)
    assert [f["id"] for f in body["features"]] == ["B01001", "B01002", "B01003", "B03001", "BRUR"]
    assert sum(f["properties"]["population"] for f in body["features"]) == 15639
    assert_matches_schema(openapi, "/api/v1/barrios", "get", response)


def test_micro_barrios_filtered_by_barrio(client: TestClient, openapi: dict[str, Any]) -> None:
    response = client.get("/api/v1/micro-barrios", params={"barrio": "B03001"})
    body = response.json()
    assert_feature_collection(body)
    assert body["features"]
    assert all(f["properties"]["barrio"] == "B03001" for f in body["features"])
    assert_matches_schema(openapi, "/api/v1/micro-barrios", "get", response)
    everything = client.get("/api/v1/micro-barrios").json()
    assert len(everything["features"]) == 19


def test_one_barrio_and_an_unknown_one(client: TestClient, openapi: dict[str, Any]) -> None:
    response = client.get("/api/v1/barrios/B01002")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "Feature"
    assert body["id"] == "B01002"
    assert_matches_schema(openapi, "/api/v1/barrios/{code}", "get", response)
    missing = client.get("/api/v1/barrios/ZZZ")
    assert_problem(missing, 404, "barrio_no_encontrado")
    assert_matches_schema(openapi, "/api/v1/barrios/{code}", "get", missing)


def test_bad_comuna_filter_is_a_422_naming_the_field(client: TestClient) -> None:
    body = assert_problem(client.get("/api/v1/barrios", params={"comuna": "lanco"}), 422)
    assert body["errors"][0]["field"] == "comuna"


def test_locate_inside_town(client: TestClient, openapi: dict[str, Any]) -> None:
    lon, lat = LANCO_TOWN
    response = client.get("/api/v1/locate", params={"lon": lon, "lat": lat})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["comuna"] == {"code": "14103", "name": "Lanco"}
    assert body["barrio"]["code"] == "B01001"
    assert body["micro_barrio"]["code"].startswith("B01001-")
    assert body["on_boundary"] is False
    assert_matches_schema(openapi, "/api/v1/locate", "get", response)


def test_locate_in_the_rural_remainder_has_no_micro_barrio(client: TestClient) -> None:
    lon, lat = RURAL
    body = client.get("/api/v1/locate", params={"lon": lon, "lat": lat}).json()
    assert body["barrio"]["code"] == "BRUR"
    assert body["micro_barrio"] is None


def test_locate_on_a_shared_boundary_picks_the_lowest_code(client: TestClient, db: Session) -> None:
    # a point on the edge shared by barrios B01001 and B01002, found by PostGIS itself
    lon, lat = db.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointN(ST_GeometryN(ST_LineMerge("
            "ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)), 1), 2) AS p "
            "FROM barrio a, barrio b WHERE a.code = 'B01001' AND b.code = 'B01002') s"
        )
    ).one()
    body = client.get("/api/v1/locate", params={"lon": lon, "lat": lat}).json()
    assert body["barrio"]["code"] == "B01001"
    assert body["on_boundary"] is True


def test_locate_outside_every_comuna(client: TestClient, openapi: dict[str, Any]) -> None:
    lon, lat = SANTIAGO
    response = client.get("/api/v1/locate", params={"lon": lon, "lat": lat})
    body = assert_problem(response, 404, "fuera_del_territorio")
    assert body["swapped_coordinates"] is False
    assert_matches_schema(openapi, "/api/v1/locate", "get", response)


def test_locate_with_swapped_coordinates_is_outside_and_says_so(client: TestClient) -> None:
    lon, lat = LANCO_TOWN
    response = client.get("/api/v1/locate", params={"lon": lat, "lat": lon})
    body = assert_problem(response, 404, "fuera_del_territorio")
    assert body["swapped_coordinates"] is True
    assert "invertidas" in body["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": "abc", "lat": -39.45}, "lon"),
        ({"lon": -72.7}, "lat"),
        ({"lon": -72.7, "lat": 95}, "lat"),
        ({"lon": "NaN", "lat": -39.45}, "lon"),
        ({"lon": "inf", "lat": -39.45}, "lon"),
    ],
)
def test_locate_bad_input(client: TestClient, params: dict[str, Any], field: str) -> None:
    body = assert_problem(client.get("/api/v1/locate", params=params), 422, "datos_invalidos")
    assert [e["field"] for e in body["errors"]] == [field]
    assert all(e["reason"] for e in body["errors"])


def test_an_unknown_comuna_is_the_same_422_on_every_surface(
    client: TestClient, db: Session
) -> None:
    # one resolver (app/territory/service.resolve_comuna): the public statistics answered 404
    # where the rankings and the reports answered 422 for the very same mistake
    planner = make_auth_headers(make_key(db, role=Role.PLANNER))
    ranking = {"level": "barrio", "comuna": "13101", "period_end": "2026-06-30", "months": 12}
    report = {"kind": "bulletin", "month": "2025-06", "format": "html", "comuna": "13101"}
    answers = {
        "public stats": client.get("/api/v1/public/stats", params={"comuna": "13101"}),
        "public rankings": client.get("/api/v1/public/rankings", params={"comuna": "13101"}),
        "rankings": client.post("/api/v1/rankings", json=ranking, headers=planner),
        "reports": client.post("/api/v1/reports", json=report, headers=planner),
    }
    for name, response in answers.items():
        body = assert_problem(response, 422, "comuna_no_encontrada")
        assert [e["field"] for e in body["errors"]] == ["comuna"], name
