"""Strict input and HTTP semantics (issue 12, items 5, 7 and 8): each case once failed.

Every rejection is a 4xx problem naming the field, and writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.helpers import assert_problem
from tests.risk_factories import Keys, create_report


@pytest.fixture
def keys(db: Session) -> Keys:
    return Keys(db)


# --- item 5: a filter PostgreSQL (or the translator) cannot evaluate is the caller's 400 -------


@pytest.mark.parametrize(
    ("collection", "expression", "limit"),
    [
        ("risk-factors-public", "status IN ('reportado') AND 1/0=1", 10),  # folded in Python
        ("barrios", "population / 0 = 1", 10),  # evaluated by PostgreSQL
        ("barrios", "population / 0 = 1", 1000),  # the streamed page
        ("barrios", "population * 1e308 * 1e308 > 1", 10),  # numeric overflow
    ],
)
def test_filter_that_cannot_be_evaluated_is_400_naming_filter(
    client: TestClient, keys: Keys, collection: str, expression: str, limit: int
) -> None:
    create_report(client, keys)
    response = client.get(
        f"/ogc/collections/{collection}/items", params={"filter": expression, "limit": limit}
    )
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "filter"
    assert "no se puede evaluar" in body["errors"][0]["reason"]
    # the request's transaction is still usable: the next read on it works
    assert client.get(f"/ogc/collections/{collection}/items").status_code == 200


# --- item 8: a 405 lists every method of the path ------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/v1/complaints", {"GET", "POST"}),
        ("DELETE", "/api/v1/risk-factors", {"GET", "POST"}),
        (
            "OPTIONS",
            "/api/v1/risk-factors/e3e70682-c209-1cac-a29f-6fbed82c07cd",
            {"GET", "PATCH"},
        ),
        ("PATCH", "/api/v1/risk-factors/stats", {"GET"}),
        ("PUT", "/api/v1/rankings/profiles", {"GET", "POST"}),
        ("DELETE", "/api/v1/projects/1", {"GET", "PATCH"}),
    ],
)
def test_405_allow_lists_every_method_of_the_path(
    client: TestClient, keys: Keys, method: str, path: str, allow: set[str]
) -> None:
    response = client.request(method, path, headers=keys.h("admin"))
    assert_problem(response, 405)
    assert {m.strip() for m in response.headers["allow"].split(",")} == allow


def test_openapi_paths_hide_route_converters(openapi: dict[str, Any]) -> None:
    assert "/api/v1/risk-factors/{report_id}" in openapi["paths"]
    assert not any(":" in path for path in openapi["paths"])
