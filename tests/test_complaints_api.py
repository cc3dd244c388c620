"""Reading complaints: the catalog, GeoJSON pages with filters and cursors, statistics."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.complaints.ingest import import_complaints
from app.models import Role
from tests.factories.complaints import OK_CSV
from tests.factories.keys import make_auth_headers, make_key
from tests.helpers import assert_feature_collection, assert_matches_schema, assert_problem

LIST = "/api/v1/complaints"
STATS = "/api/v1/complaints/stats"


@pytest.fixture
def reader(db: Session) -> dict[str, str]:
    import_complaints(db, OK_CSV, loaded_by="cli:prueba")
    db.commit()
    return make_auth_headers(make_key(db, role=Role.ADMIN))


def refs(body: dict[str, Any]) -> list[str]:
    return [f["properties"]["external_ref"] for f in body["features"]]


def test_catalog(client: TestClient, openapi: dict[str, Any]) -> None:
    response = client.get("/api/v1/categories")
    assert response.status_code == 200
    assert_matches_schema(openapi, "/api/v1/categories", "get", response)
    categories = {c["code"]: c for c in response.json()}
    assert len(categories) == 47
    assert sum(c["dmcs"] for c in categories.values()) == 14
    assert categories["40101"]["sensitive"] is True
    assert categories["40101"]["drug_kind"] == "trafico"
    assert categories["70202"]["family_name"] == "Incivilidades"
    assert {c["taxonomy_version"] for c in categories.values()} == {"cead-2024"}


def test_list_is_geojson_newest_first(
    client: TestClient, reader: dict[str, str], openapi: dict[str, Any]
) -> None:
    response = client.get(LIST, headers=reader)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    assert_matches_schema(openapi, LIST, "get", response)
    body = response.json()
    assert_feature_collection(body)
    assert refs(body) == ["MUN-1", "CAR-4", "PDI-1", "CAR-3", "CAR-2", "CAR-1"]
    assert body["numberReturned"] == 6
    assert [link["rel"] for link in body["links"]] == ["self"]
    first = body["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [-72.777509, -39.445897]}
    assert first["properties"]["barrio"] == "B01001"
    assert first["properties"]["category_name"] == "Consumo de drogas en la vía pública"


def test_cursor_pagination_walks_every_row_once(client: TestClient, reader: dict[str, str]) -> None:
    seen: list[str] = []
    response = client.get(LIST, params={"limit": 4}, headers=reader)
    body = response.json()
    assert body["numberReturned"] == 4
    seen += refs(body)
    next_link = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert 'rel="next"' in response.headers["link"]
    body = client.get(next_link, headers=reader).json()
    seen += refs(body)
    assert [link["rel"] for link in body["links"]] == ["self"]
    assert seen == ["MUN-1", "CAR-4", "PDI-1", "CAR-3", "CAR-2", "CAR-1"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "556"}, ["CAR-2", "CAR-1"]),
        ({"category": "556,351"}, ["CAR-3", "CAR-2", "CAR-1"]),
        ({"family": "4"}, ["PDI-1"]),
        ({"dmcs": "true"}, ["CAR-3", "CAR-2", "CAR-1"]),
        ({"barrio": "BRUR"}, ["CAR-4"]),
        ({"micro_barrio": "B01001-03"}, ["CAR-1"]),
        ({"occurred_from": "2025-06-01T00:00:00", "occurred_to": "2025-06-16"}, ["PDI-1", "CAR-3"]),
        ({"bbox": "-72.6,-39.6,-72.4,-39.5"}, ["PDI-1"]),
    ],
)
def test_filters(
    client: TestClient, reader: dict[str, str], params: dict[str, str], expected: list[str]
) -> None:
    response = client.get(LIST, params=params, headers=reader)
    assert response.status_code == 200, response.text
    assert refs(response.json()) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "-72.6,-39.5,-72.4,-39.6"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"limit": "10001"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"cursor": "nada"}, "cursor"),
        ({"occurred_from": "ayer"}, "occurred_from"),
    ],
)
def test_bad_filters_are_a_422_naming_the_parameter(
    client: TestClient, reader: dict[str, str], params: dict[str, str], field: str
) -> None:
    body = assert_problem(client.get(LIST, params=params, headers=reader), 422)
    assert [e["field"] for e in body["errors"]] == [field]


# Hand-computed from tests/fixtures/complaints_ok.csv. CAR-2 happened on 31 May at 22:30 in
# Chile (1 June in UTC), so it counts in May.
@pytest.mark.parametrize(
    ("group_by", "groups"),
    [
        ("", [{"count": 6}]),
        ("barrio", [("B01001", 3), ("B01002", 1), ("B03001", 1), ("BRUR", 1)]),
        ("month", [("2025-05", 2), ("2025-06", 4)]),
        (
            "barrio,month",
            [
                ("B01001", "2025-05", 2),
                ("B01001", "2025-06", 1),
                ("B01002", "2025-06", 1),
                ("B03001", "2025-06", 1),
                ("BRUR", "2025-06", 1),
            ],
        ),
        ("category", [("351", 1), ("40102", 1), ("556", 2), ("558", 1), ("70201", 1)]),
        ("micro_barrio", [("B01001-01", 1), ("B01001-03", 1), ("B01001-05", 1)]),
    ],
)
def test_stats_equal_the_hand_computed_fixture(
    client: TestClient,
    reader: dict[str, str],
    openapi: dict[str, Any],
    group_by: str,
    groups: list[Any],
) -> None:
    params = {"group_by": group_by}
    if group_by == "micro_barrio":
        params["barrio"] = "B01001"
    response = client.get(STATS, params=params, headers=reader)
    assert response.status_code == 200, response.text
    assert_matches_schema(openapi, STATS, "get", response)
    body = response.json()
    names = [n for n in group_by.split(",") if n]
    expected = (
        groups if not names else [dict(zip([*names, "count"], g, strict=True)) for g in groups]
    )
    assert body["groups"] == expected
    assert body["group_by"] == names
    assert body["total"] == sum(g["count"] for g in expected)


def test_stats_as_csv(client: TestClient, reader: dict[str, str]) -> None:
    response = client.get(
        STATS, params={"group_by": "month,barrio", "format": "csv", "dmcs": "true"}, headers=reader
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [
        ["month", "barrio", "count"],
        ["2025-05", "B01001", "2"],
        ["2025-06", "B01002", "1"],
    ]


@pytest.mark.parametrize("group_by", ["comuna", "barrio,barrio", "barrio;drop table"])
def test_stats_group_by_is_an_allow_list(
    client: TestClient, reader: dict[str, str], group_by: str
) -> None:
    body = assert_problem(client.get(STATS, params={"group_by": group_by}, headers=reader), 422)
    assert [e["field"] for e in body["errors"]] == ["group_by"]


def test_roles_for_reading(client: TestClient, db: Session, reader: dict[str, str]) -> None:
    unit = make_auth_headers(make_key(db, role=Role.UNIT, unit="Alumbrado"))
    police = make_auth_headers(make_key(db, role=Role.POLICE, institution="pdi"))
    for path in (LIST, STATS):
        assert_problem(client.get(path), 401, "no_autenticado")
        assert_problem(client.get(path, headers=unit), 403, "sin_permiso")
        assert client.get(path, headers=reader).status_code == 200
        assert client.get(path, headers=police).status_code == 200
