"""OGC details clients rely on: numberMatched, the API definition GDAL and QGIS read, CQL2
temporal functions against planted dates, and one working example per declared CQL2 class.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.ogc import cql2_temporal, items
from app.ogc.routes import CONFORMANCE
from tests.factories.keys import Keys
from tests.factories.risk import LANCO_TOWN
from tests.factories.tables import make_complaint
from tests.helpers import assert_problem

CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
# one filter per declared CQL2 class, on the planted complaints below: (filter, matches)
EXAMPLES = {
    "basic-cql2": ("category = '556'", 5),
    "advanced-comparison-operators": ("category IN ('556', '999') AND category LIKE '55%'", 5),
    "case-insensitive-comparison": ("CASEI(precision) = CASEI('EXACT')", 5),
    "basic-spatial-functions": (
        "S_INTERSECTS(geometry, POLYGON((-73 -40, -72 -40, -72 -39, -73 -39, -73 -40)))",
        5,
    ),
    "spatial-functions": ("S_DISJOINT(geometry, POINT(0 0))", 5),
    "property-property": ("barrio = comuna", 0),
    "temporal-functions": ("T_AFTER(datetime, TIMESTAMP('2025-03-01T00:00:00Z'))", 3),
}
# the planted instants: the 1st of each month, January to May 2025, 12:00 UTC
DAYS = [datetime(2025, month, 1, 12, tzinfo=UTC) for month in range(1, 6)]


@pytest.fixture
def planted(db: Session) -> list[datetime]:
    for day in DAYS:
        make_complaint(db, occurred_at=day, lon=LANCO_TOWN[0], lat=LANCO_TOWN[1])
    db.commit()
    return DAYS


def matched(client: TestClient, keys: Keys, cql: str, lang: str = "cql2-text") -> int:
    response = client.get(
        "/ogc/collections/complaints/items",
        params={"filter": cql, "filter-lang": lang, "limit": 100},
        headers=keys.h("planner"),
    )
    assert response.status_code == 200, response.text
    return len(response.json()["features"])


def test_every_declared_cql2_class_has_a_working_example(
    client: TestClient, keys: Keys, planted: list[datetime]
) -> None:
    declared = {c.removeprefix(CQL2) for c in CONFORMANCE if c.startswith(CQL2)}
    assert declared - {"cql2-text", "cql2-json"} == set(EXAMPLES)
    for name, (cql, expected) in EXAMPLES.items():
        assert matched(client, keys, cql) == expected, name


def _truth(op: str, x: datetime, start: datetime | None, end: datetime | None) -> bool:
    """The standard's definition, on [x, x] against [start, end] (None: open end)."""
    low = start or datetime.min.replace(tzinfo=UTC)
    high = end or datetime.max.replace(tzinfo=UTC)
    return {
        "t_after": x > high,
        "t_before": x < low,
        "t_begins": x == low and x < high,
        "t_begunby": x == low and x > high,
        "t_contains": x < low and x > high,
        "t_disjoint": x < low or x > high,
        "t_during": low < x < high,
        "t_endedby": x < low and x == high,
        "t_ends": x > low and x == high,
        "t_equals": x == low == high,
        "t_intersects": low <= x <= high,
        "t_meets": x == low,
        "t_metby": x == high,
        "t_overlappedby": low < x < high and x > high,
        "t_overlaps": x < low and low < x < high,
    }[op]


def _literal(start: datetime | None, end: datetime | None, instant: bool) -> tuple[str, Any]:
    def text(value: datetime | None) -> str:
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ".."

    if instant:
        return f"TIMESTAMP('{text(start)}')", {"timestamp": text(start)}
    return f"INTERVAL('{text(start)}','{text(end)}')", {"interval": [text(start), text(end)]}


@pytest.mark.parametrize("op", sorted(cql2_temporal.NAMES))
def test_temporal_functions_match_their_definitions_in_text_and_json(
    client: TestClient, keys: Keys, planted: list[datetime], op: str
) -> None:
    march, april = DAYS[2], DAYS[3]
    cases = [
        (march, march, True),
        (march, april, False),
        (DAYS[1], DAYS[4], False),
        (march, None, False),
        (None, march, False),
    ]
    for start, end, instant in cases:
        text, json_literal = _literal(start, end, instant)
        expected = sum(_truth(op, x, start, end) for x in DAYS)
        assert matched(client, keys, f"{op.upper()}(datetime, {text})") == expected, (op, text)
        as_json = {"op": op, "args": [{"property": "datetime"}, json_literal]}
        got = matched(client, keys, orjson.dumps(as_json).decode(), "cql2-json")
        assert got == expected, (op, json_literal)
    # the published name of the time property works as well as `datetime`
    assert matched(client, keys, "T_AFTER(occurred_at, DATE('2025-03-02'))") == 2


@pytest.mark.parametrize(
    "cql",
    [
        "T_AFTER(datetime)",
        "T_AFTER(TIMESTAMP('2025-01-01T00:00:00Z'), TIMESTAMP('2025-01-01T00:00:00Z'))",
        "T_AFTER(datetime, 'ayer')",
    ],
)
def test_a_malformed_temporal_function_is_a_400_naming_filter(
    client: TestClient, keys: Keys, cql: str
) -> None:
    response = client.get(
        "/ogc/collections/complaints/items", params={"filter": cql}, headers=keys.h("planner")
    )
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "filter"


def test_number_matched_is_exact_under_the_cap_and_omitted_above(
    client: TestClient, keys: Keys, planted: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "/ogc/collections/complaints/items"
    first = client.get(url, params={"limit": 2}, headers=keys.h("planner")).json()
    assert first["numberReturned"] == 2
    assert first["numberMatched"] == 5  # counted: more pages follow
    last = client.get(url, params={"limit": 2, "offset": 4}, headers=keys.h("planner")).json()
    assert last["numberMatched"] == 5  # known from the last page itself
    beyond = client.get(url, params={"offset": 50}, headers=keys.h("planner")).json()
    assert beyond["numberMatched"] == 5
    filtered = client.get(
        url,
        params={"limit": 1, "filter": "T_BEFORE(datetime, DATE('2025-03-01'))"},
        headers=keys.h("planner"),
    ).json()
    assert filtered["numberMatched"] == 2
    micro = client.get("/ogc/collections/micro-barrios/items").json()
    assert micro["numberMatched"] == 19  # the QGIS case: 10 shown of 19
    monkeypatch.setattr(items, "NUMBER_MATCHED_CAP", 3)
    capped = client.get(url, params={"limit": 2}, headers=keys.h("planner")).json()
    assert "numberMatched" not in capped
    assert capped["numberReturned"] == 2


def test_the_api_definition_is_rooted_at_the_landing_page(client: TestClient) -> None:
    landing = client.get("/ogc").json()
    desc = next(link for link in landing["links"] if link["rel"] == "service-desc")
    assert desc["href"].endswith("/ogc/api")
    response = client.get("/ogc/api")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    doc = response.json()
    assert doc["servers"] == [{"url": "http://testserver/ogc"}]
    assert all(not path.startswith("/api/") for path in doc["paths"])
    items_op = doc["paths"]["/collections/{collectionId}/items"]["get"]
    limit = next(p for p in items_op["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == items.MAX_LIMIT  # GDAL and QGIS size pages by it
    collection = next(p for p in items_op["parameters"] if p["in"] == "path")
    assert collection["name"] == "collectionId"
    assert "/collections/{collectionId}/items/{featureId}" in doc["paths"]
