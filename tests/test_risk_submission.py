"""Field submission: strict geometry, attributes, clocks, duplicates, idempotency."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories.keys import Keys
from tests.factories.risk import (
    FAR_IN_TOWN,
    LANCO_TOWN,
    NEAR_TOWN,
    SANTIAGO,
    counts,
    make_point,
    make_report,
    make_square,
    submit,
)
from tests.helpers import assert_matches_schema, assert_problem


def test_submit_point_assigns_barrio_and_micro_barrio(
    client: TestClient, keys: Keys, openapi: dict[str, Any]
) -> None:
    response = submit(client, keys, key="k-000001")
    assert response.status_code == 201, response.text
    assert_matches_schema(openapi, "/api/v1/risk-factors", "post", response)
    body = response.json()
    assert response.headers["etag"] == '"v1"'
    assert response.headers["location"] == f"/api/v1/risk-factors/{body['id']}"
    assert body["status"] == "reportado"
    assert body["barrio"]["code"] == "B01001"
    assert body["micro_barrio"]["code"].startswith("B01001-")
    assert body["institution"] == "carabineros"
    assert body["suggested_unit"] == "Alumbrado público"
    assert [s["to_status"] for s in body["timeline"]] == ["reportado"]
    received = datetime.fromisoformat(body["received_at"])
    assert abs(received - datetime.now(UTC)) < timedelta(minutes=1)
    assert datetime.fromisoformat(body["due_at"]) - received == timedelta(days=10)


def test_linestring_and_polygon_where_the_type_allows_them(client: TestClient, keys: Keys) -> None:
    dark = {"type": "LineString", "coordinates": [list(LANCO_TOWN), list(FAR_IN_TOWN)]}
    line = make_report(client, keys, type="tramo_sin_iluminacion", geometry=dark, attributes={})
    assert line["geometry"]["type"] == "LineString"
    lot = make_report(
        client, keys, type="sitio_eriazo", geometry=make_square(*LANCO_TOWN), attributes={}
    )
    assert lot["geometry"]["type"] == "Polygon"
    assert lot["barrio"] is not None


def _geometry_rejected(
    client: TestClient, keys: Keys, db: Session, geometry: Any, code: str, reason_part: str
) -> dict[str, Any]:
    before = counts(db)
    response = submit(
        client, keys, key=str(uuid.uuid4()), type="sitio_eriazo", geometry=geometry, attributes={}
    )
    body = assert_problem(response, 422, code)
    assert body["errors"][0]["field"] == "geometry"
    assert reason_part in body["errors"][0]["reason"], body
    assert counts(db) == before
    return body


def test_bow_tie_polygon_is_rejected_with_the_geos_reason(
    client: TestClient, keys: Keys, db: Session
) -> None:
    lon, lat = LANCO_TOWN
    d = 0.001
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + d, lat + d], [lon + d, lat], [lon, lat + d], [lon, lat]]
        ],
    }
    body = _geometry_rejected(client, keys, db, bow_tie, "geometria_invalida", "corbatín")
    assert "Self-intersection" in body["errors"][0]["reason"]


def test_unclosed_ring_is_rejected(client: TestClient, keys: Keys, db: Session) -> None:
    ring = make_square(*LANCO_TOWN)["coordinates"][0][:-1] + [
        [LANCO_TOWN[0], LANCO_TOWN[1] + 0.0001]
    ]
    _geometry_rejected(
        client,
        keys,
        db,
        {"type": "Polygon", "coordinates": [ring]},
        "geometria_invalida",
        "no está cerrado",
    )


def test_crs_member_is_rejected(client: TestClient, keys: Keys, db: Session) -> None:
    geometry = {
        **make_point(*LANCO_TOWN),
        "crs": {"type": "name", "properties": {"name": "EPSG:4326"}},
    }
    _geometry_rejected(client, keys, db, geometry, "geometria_invalida", "'crs'")


def test_3d_positions_are_rejected(client: TestClient, keys: Keys, db: Session) -> None:
    _geometry_rejected(
        client,
        keys,
        db,
        {"type": "Point", "coordinates": [*LANCO_TOWN, 120.0]},
        "geometria_invalida",
        "2-D",
    )


def test_point_outside_the_comuna_is_rejected(client: TestClient, keys: Keys, db: Session) -> None:
    _geometry_rejected(client, keys, db, make_point(*SANTIAGO), "fuera_de_la_comuna", "fuera")


def test_swapped_coordinates_are_recognised(client: TestClient, keys: Keys, db: Session) -> None:
    lon, lat = LANCO_TOWN
    _geometry_rejected(
        client, keys, db, make_point(lat, lon), "coordenadas_invertidas", "invertidas"
    )


def test_too_many_vertices_is_rejected(client: TestClient, keys: Keys, db: Session) -> None:
    lon, lat = LANCO_TOWN
    ring = [[lon + 0.001 * i / 600, lat] for i in range(600)]
    ring += [[lon, lat + 0.001], [lon, lat]]
    _geometry_rejected(
        client,
        keys,
        db,
        {"type": "Polygon", "coordinates": [ring]},
        "geometria_invalida",
        "máximo de 500 vértices",
    )


def test_geometry_type_not_allowed_for_the_factor_type(
    client: TestClient, keys: Keys, db: Session
) -> None:
    before = counts(db)
    response = submit(client, keys, geometry=make_square(*LANCO_TOWN))  # luminaria: Point only
    body = assert_problem(response, 422, "geometria_invalida")
    assert "Polygon" in body["errors"][0]["reason"]
    assert counts(db) == before


def test_a_vertex_a_little_outside_the_border_is_tolerated(
    client: TestClient, keys: Keys, db: Session
) -> None:
    """Within ~50 m of the comuna counts as inside (GPS error at the border)."""
    # 20 m from a border make_point, in whichever direction leaves the comuna
    outside = db.execute(
        text(
            "WITH b AS (SELECT geom, ST_ClosestPoint(ST_Boundary(geom), ST_Centroid(geom)) AS p"
            " FROM comuna),"
            " c AS (SELECT ST_Project(p::geography, 20, radians(a))::geometry AS g, geom"
            " FROM b, generate_series(0, 350, 10) AS a)"
            " SELECT ST_X(g), ST_Y(g) FROM c WHERE NOT ST_Covers(geom, g) LIMIT 1"
        )
    ).one()
    response = submit(client, keys, key="k-border-1", geometry=make_point(*outside))
    assert response.status_code == 201, response.text


def test_attributes_are_validated_against_the_type(
    client: TestClient, keys: Keys, db: Session
) -> None:
    before = counts(db)
    response = submit(client, keys, attributes={"luminarias_afectadas": "dos", "color": "rojo"})
    body = assert_problem(response, 422, "datos_invalidos")
    fields = {e["field"]: e["reason"] for e in body["errors"]}
    assert fields["attributes.luminarias_afectadas"] == "debe ser un número entero"
    assert "atributo no definido" in fields["attributes.color"]
    assert counts(db) == before


def test_observed_in_the_future_is_rejected_but_small_skew_is_fine(
    client: TestClient, keys: Keys, db: Session
) -> None:
    before = counts(db)
    future = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    body = assert_problem(submit(client, keys, observed_at=future), 422)
    assert body["errors"][0]["field"] == "observed_at"
    assert counts(db) == before
    slightly = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    assert submit(client, keys, observed_at=slightly).status_code == 201


def test_observed_at_without_time_zone_is_rejected(client: TestClient, keys: Keys) -> None:
    body = assert_problem(submit(client, keys, observed_at="2026-11-20T21:30:00"), 422)
    assert body["errors"][0]["field"] == "observed_at"


def test_severity_and_unknown_type(client: TestClient, keys: Keys) -> None:
    assert assert_problem(submit(client, keys, severity=7), 422)["errors"][0]["field"] == "severity"
    body = assert_problem(submit(client, keys, type="ovni"), 422)
    assert body["errors"][0]["field"] == "type"


def test_roles_that_cannot_submit(client: TestClient, keys: Keys) -> None:
    assert_problem(submit(client, keys, role="planner"), 403)
    assert_problem(submit(client, keys, role="unit"), 403)
    assert_problem(client.post("/api/v1/risk-factors", json={}), 401)


def test_open_report_of_same_type_within_30_m_is_flagged_and_linked(
    client: TestClient, keys: Keys
) -> None:
    first = make_report(client, keys)
    near = make_report(client, keys, geometry=make_point(*NEAR_TOWN))
    assert [d["id"] for d in near["possible_duplicates"]] == [first["id"]]
    assert 5 < near["possible_duplicates"][0]["distance_m"] < 30
    assert near["possible_duplicate_of"] == first["id"]
    far = make_report(client, keys, geometry=make_point(*FAR_IN_TOWN))
    assert far["possible_duplicates"] == []
    other_type = make_report(
        client, keys, type="microbasural", geometry=make_point(*NEAR_TOWN), attributes={}
    )
    assert other_type["possible_duplicates"] == []


# --- idempotency ---------------------------------------------------------------------------


def test_retry_with_same_key_returns_the_original_response(
    client: TestClient, keys: Keys, db: Session
) -> None:
    first = submit(client, keys, key="retry-0001", observed_at="2026-11-20T21:30:00-03:00")
    assert first.status_code == 201
    after_first = counts(db)
    again = submit(client, keys, key="retry-0001", observed_at="2026-11-20T21:30:00-03:00")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert counts(db) == after_first


def test_same_key_different_body_is_a_422(client: TestClient, keys: Keys, db: Session) -> None:
    observed = "2026-11-20T21:30:00-03:00"
    assert submit(client, keys, key="retry-0002", observed_at=observed).status_code == 201
    before = counts(db)
    response = submit(client, keys, key="retry-0002", observed_at=observed, severity=5)
    body = assert_problem(response, 422, "clave_idempotencia_reutilizada")
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert counts(db) == before


def test_client_generated_uuid_is_an_idempotency_key_too(
    client: TestClient, keys: Keys, db: Session
) -> None:
    report_id = str(uuid.uuid4())
    observed = "2026-11-20T21:30:00-03:00"
    first = submit(client, keys, id=report_id, observed_at=observed)
    assert first.status_code == 201
    assert first.json()["id"] == report_id
    before = counts(db)
    again = submit(client, keys, id=report_id, observed_at=observed)
    assert again.json() == first.json()
    assert counts(db) == before
    # another officer's device cannot reuse the id
    other = client.post(
        "/api/v1/risk-factors",
        json={
            "id": report_id,
            "type": "microbasural",
            "geometry": make_point(*LANCO_TOWN),
            "severity": 2,
            "observed_at": observed,
        },
        headers=keys.h("pdi"),
    )
    assert_problem(other, 422, "id_ya_usado")


def test_keys_are_scoped_to_the_caller(client: TestClient, keys: Keys) -> None:
    a = submit(client, keys, key="shared-key-1")
    b = submit(client, keys, key="shared-key-1", role="pdi")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
