"""The community feed never exposes exact coordinates, officer identity or free text."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories.keys import Keys
from tests.factories.risk import FAR_IN_TOWN, LANCO_TOWN, make_point, make_report, make_square, move
from tests.helpers import assert_feature_collection, assert_matches_schema

SECRET_TEXT = "Vecino Juan Pérez de calle Errázuriz 123 denuncia"


def _positions(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    def walk(c: Any) -> list[tuple[float, float]]:
        if c and isinstance(c[0], int | float):
            return [(c[0], c[1])]
        return [p for x in c for p in walk(x)]

    return walk(geometry["coordinates"])


def test_public_feed_is_generalised(
    client: TestClient, keys: Keys, openapi: dict[str, Any]
) -> None:
    exact = make_report(client, keys, description=SECRET_TEXT, officer_id="CB-99999")
    lot = make_report(
        client,
        keys,
        type="sitio_eriazo",
        geometry=make_square(*FAR_IN_TOWN),
        attributes={},
        description=SECRET_TEXT,
    )
    hidden = make_report(
        client,
        keys,
        type="punto_consumo_via_publica",
        geometry=make_point(*FAR_IN_TOWN),
        attributes={},
    )
    move(client, keys, exact["id"], "validado")
    response = client.get("/api/v1/public/risk-factors")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    assert_matches_schema(openapi, "/api/v1/public/risk-factors", "get", response)
    body = response.json()
    assert_feature_collection(body)
    text = response.text
    for secret in (SECRET_TEXT, "CB-99999", "carabineros", "Cuadrante", "P-778"):
        assert secret not in text
    by_id = {f["id"]: f for f in body["features"]}
    assert hidden["id"] not in by_id  # drug-related type: never public
    exact_positions = set(_positions(exact["geometry"])) | set(_positions(lot["geometry"]))
    for feature in body["features"]:
        assert feature["geometry"]["type"] == "Point"
        assert not set(_positions(feature["geometry"])) & exact_positions
        props = feature["properties"]
        assert set(props) == {
            "type",
            "type_label",
            "typology",
            "status",
            "status_label",
            "barrio",
            "micro_barrio",
            "location_precision",
            "reported_month",
            "resolved_month",
            "overdue",
        }
        assert len(props["reported_month"]) == 7  # AAAA-MM, no day, no time
    published = by_id[exact["id"]]
    assert published["properties"]["status"] == "validado"
    assert published["properties"]["micro_barrio"] == exact["micro_barrio"]["code"]
    assert published["geometry"]["coordinates"] != list(LANCO_TOWN)
    # two factors in the same micro-barrio share one published make_point
    twin = make_report(client, keys, type="microbasural", attributes={})
    again = {f["id"]: f for f in client.get("/api/v1/public/risk-factors").json()["features"]}
    assert again[twin["id"]]["geometry"] == again[exact["id"]]["geometry"]


def test_public_cannot_reach_the_staff_endpoints(client: TestClient, keys: Keys) -> None:
    rid = make_report(client, keys)["id"]
    assert client.get("/api/v1/risk-factors").status_code == 401
    assert client.get(f"/api/v1/risk-factors/{rid}").status_code == 401
    assert client.get("/api/v1/risk-factors/stats").status_code == 401
    types = client.get("/api/v1/risk-factor-types").json()
    assert "punto_consumo_via_publica" not in {t["code"] for t in types}
