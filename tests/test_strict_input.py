"""Strict input and HTTP semantics (issue 12, items 5, 7 and 8): each case once failed.

Every rejection is a 4xx problem naming the field, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, Optional

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.api.deps import is_sequence_annotation
from app.models import RankingSnapshot
from tests.factories.complaints import complaint_count, make_complaint_json
from tests.factories.keys import Keys
from tests.factories.risk import counts, make_report, make_report_body
from tests.helpers import assert_problem

RISK = "/api/v1/risk-factors"
COMPLAINT = make_complaint_json("S-1")


def _fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


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
    make_report(client, keys)
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


# --- item 8: bodies take numbers and booleans as JSON types, not text ------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"severity": "3"}, "severity"),
        ({"severity": 3.0}, "severity"),
        ({"severity": True}, "severity"),
    ],
)
def test_risk_factor_numbers_are_not_coerced(
    client: TestClient, db: Session, keys: Keys, overrides: dict[str, Any], field: str
) -> None:
    before = counts(db)
    response = client.post(RISK, json=make_report_body(**overrides), headers=keys.h("police"))
    assert field in _fields(assert_problem(response, 422))
    assert counts(db) == before


@pytest.mark.parametrize(("field", "value"), [("lon", "-72.775"), ("lat", "-39.452")])
def test_complaint_coordinates_are_numbers_not_text(
    client: TestClient, db: Session, keys: Keys, field: str, value: str
) -> None:
    before = complaint_count(db)
    body = {**COMPLAINT, field: value}
    response = client.post("/api/v1/complaints", json=body, headers=keys.h("police"))
    assert field in _fields(assert_problem(response, 422))
    assert complaint_count(db) == before


def test_catalog_booleans_are_not_text(client: TestClient, keys: Keys) -> None:
    response = client.patch(
        "/api/v1/risk-factor-types/luminaria_apagada",
        json={"public": "false"},
        headers=keys.h("admin"),
    )
    assert "public" in _fields(assert_problem(response, 422))


# --- item 8: dates are ISO 8601 text, in bodies and in query strings -----------------------


def test_ranking_period_end_as_a_number_is_refused(
    client: TestClient, db: Session, keys: Keys
) -> None:
    before = db.scalar(select(func.count()).select_from(RankingSnapshot))
    response = client.post(
        "/api/v1/rankings", json={"level": "barrio", "period_end": 0}, headers=keys.h("planner")
    )
    assert "period_end" in _fields(assert_problem(response, 422))
    assert db.scalar(select(func.count()).select_from(RankingSnapshot)) == before


@pytest.mark.parametrize(
    ("role", "path", "param", "value"),
    [
        ("admin", "/api/v1/risk-factors", "received_to", "0"),
        ("admin", "/api/v1/risk-factors/stats", "received_from", "0"),
        ("admin", "/api/v1/complaints", "occurred_from", "0"),
        ("admin", "/api/v1/complaints/stats", "occurred_to", "1700000000"),
        ("admin", "/api/v1/audit", "until", "0.5"),
        ("admin", "/api/v1/audit", "since", "0"),
    ],
)
def test_query_dates_must_be_iso_8601(
    client: TestClient, keys: Keys, role: str, path: str, param: str, value: str
) -> None:
    response = client.get(path, params={param: value}, headers=keys.h(role))
    body = assert_problem(response, 422)
    assert param in _fields(body)
    assert "ISO 8601" in body["errors"][0]["reason"] or "AAAA-MM-DD" in body["errors"][0]["reason"]
    # and ISO 8601 is still taken
    good = "2025-06-01" if "received" in param else "2025-06-01T00:00:00-04:00"
    assert client.get(path, params={param: good}, headers=keys.h(role)).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/complaints", "/api/v1/complaints/stats"])
@pytest.mark.parametrize(
    ("param", "value"),
    [("category", "X\u0088\x0f,\x06"), ("category", "351,,552"), ("family", "4;DROP")],
)
def test_catalog_code_lists_refuse_what_no_code_looks_like(
    client: TestClient, keys: Keys, path: str, param: str, value: str
) -> None:
    body = assert_problem(client.get(path, params={param: value}, headers=keys.h("admin")), 422)
    assert _fields(body) == {f"{param}.0"}  # the parameter and which of its values
    # codes, repeated or comma-separated, and an empty value still go through
    for good in ("351", "351,552", ""):
        assert client.get(path, params={param: good}, headers=keys.h("admin")).status_code == 200


def test_open311_start_date_must_be_iso_8601(client: TestClient) -> None:
    response = client.get("/open311/v2/requests.json", params={"start_date": "0.5"})
    assert response.status_code == 400
    assert "start_date" in response.json()[0]["description"]
    ok = client.get("/open311/v2/requests.json", params={"start_date": "2025-06-01T00:00:00Z"})
    assert ok.status_code == 200


# --- item 8: plausible dates ---------------------------------------------------------------


@pytest.mark.parametrize("when", ["1900-01-01T10:00:00-03:00", "1999-12-31T23:00:00Z"])
def test_observed_at_before_2000_is_refused(
    client: TestClient, db: Session, keys: Keys, when: str
) -> None:
    before = counts(db)
    response = client.post(RISK, json=make_report_body(observed_at=when), headers=keys.h("police"))
    assert "observed_at" in _fields(assert_problem(response, 422))
    assert counts(db) == before


def test_occurred_at_before_2000_is_refused(client: TestClient, db: Session, keys: Keys) -> None:
    before = complaint_count(db)
    body = {**COMPLAINT, "occurred_at": "1900-06-01T21:30:00"}
    response = client.post("/api/v1/complaints", json=body, headers=keys.h("police"))
    assert "occurred_at" in _fields(assert_problem(response, 422))
    assert complaint_count(db) == before


def test_project_dates_far_from_now_are_refused(client: TestClient, keys: Keys) -> None:
    body = {"comuna": "14103", "name": "Plaza", "typology": "REP", "start_date": "1900-01-01"}
    response = client.post("/api/v1/projects", json=body, headers=keys.h("planner"))
    assert "start_date" in _fields(assert_problem(response, 422))


# --- item 8: duplicate JSON keys -------------------------------------------------------------


def test_duplicate_json_keys_are_refused_naming_the_key(
    client: TestClient, db: Session, keys: Keys
) -> None:
    before = counts(db)
    text = (
        '{"type": "luminaria_apagada", "severity": 1, "severity": 5, '
        '"geometry": {"type": "Point", "coordinates": [-72.775, -39.452]}, '
        f'"observed_at": "{make_report_body()["observed_at"]}"}}'
    )
    response = client.post(
        RISK, content=text, headers=keys.h("police", **{"Content-Type": "application/json"})
    )
    body = assert_problem(response, 422, "clave_repetida")
    assert _fields(body) == {"severity"}
    assert counts(db) == before


def test_duplicate_keys_in_a_nested_object_are_refused(client: TestClient, keys: Keys) -> None:
    text = '{"level": "barrio", "x": {"a": 1, "a": 2}}'
    response = client.post(
        "/api/v1/rankings",
        content=text,
        headers=keys.h("planner", **{"Content-Type": "application/json"}),
    )
    assert _fields(assert_problem(response, 422, "clave_repetida")) == {"a"}


# --- item 8: If-Match as RFC 9110 defines it ------------------------------------------------


def test_if_match_star_matches_an_existing_report(client: TestClient, keys: Keys) -> None:
    report = make_report(client, keys)
    response = client.patch(
        f"{RISK}/{report['id']}", json={"severity": 4}, headers=keys.h("admin", **{"If-Match": "*"})
    )
    assert response.status_code == 200, response.text
    assert response.json()["severity"] == 4


def test_weak_tag_never_matches_if_match(client: TestClient, keys: Keys) -> None:
    report = make_report(client, keys)
    url = f"{RISK}/{report['id']}"
    etag = client.get(url, headers=keys.h("admin")).headers["etag"]
    weak = client.patch(
        url, json={"severity": 4}, headers=keys.h("admin", **{"If-Match": f"W/{etag}"})
    )
    assert_problem(weak, 412)
    listed = client.patch(
        url, json={"severity": 4}, headers=keys.h("admin", **{"If-Match": f'"v999", {etag}'})
    )
    assert listed.status_code == 200, listed.text


# --- item 8: what the schema says is what the service does ----------------------------------


def test_public_ranking_levels_in_schema_are_the_ones_served(
    client: TestClient, openapi: dict[str, Any]
) -> None:
    parameters = openapi["paths"]["/api/v1/public/rankings"]["get"]["parameters"]
    level = next(p for p in parameters if p["name"] == "level")["schema"]
    allowed = level.get("enum") or [level.get("const")]
    assert allowed == ["barrio"]
    body = assert_problem(
        client.get("/api/v1/public/rankings", params={"level": "micro_barrio"}), 422
    )
    assert _fields(body) == {"level"}


def test_open311_errors_are_documented_in_their_own_format(
    client: TestClient, openapi: dict[str, Any]
) -> None:
    repeated = [("jurisdiction_id", "a"), ("jurisdiction_id", "b")]
    response = client.get("/open311/v2/services.json", params=repeated)
    assert response.status_code == 400  # GeoReport v2 answers bad input with 400
    assert isinstance(response.json(), list)  # GeoReport v2's [{code, description}]
    media = response.headers["content-type"].split(";")[0]
    declared = openapi["paths"]["/open311/v2/services.{fmt}"]["get"]["responses"]["400"]
    assert media in declared["content"]


def test_statuses_of_the_shared_layers_are_documented_everywhere(
    openapi: dict[str, Any],
) -> None:
    """The rate limiter, body filter and database handlers answer for any route."""
    missing = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            expected = {"429", "503"}
            if "requestBody" in operation:
                expected |= {"400", "413", "422"}
            if operation.get("security"):
                expected.add("401")
            if absent := expected - set(operation["responses"]):
                missing.append(f"{method.upper()} {path}: {sorted(absent)}")
    assert not missing, missing


# --- a query key may repeat only where the route takes a list -----------------------------


@pytest.mark.parametrize(
    ("annotation", "is_list"),
    [
        (list[str], True),
        (list[str] | None, True),
        (Optional[list[int]], True),  # noqa: UP045 - the typing.Union spelling, on purpose
        (Annotated[list[str], "meta"], True),
        (tuple[int, ...], True),
        (set[str], True),
        (frozenset[str], True),
        (Sequence[str], True),
        (list, True),
        (str, False),
        (bytes, False),
        (str | None, False),
        (int, False),
        (dict[str, str], False),
        (Literal["a", "b"], False),
        (Annotated[str, "meta"], False),
    ],
)
def test_list_parameters_are_recognised_by_their_annotation(
    annotation: object, is_list: bool
) -> None:
    assert is_sequence_annotation(annotation) is is_list


def test_a_list_parameter_may_repeat_a_single_valued_one_may_not(client: TestClient) -> None:
    ok = client.get("/api/v1/public/risk-factors", params=[("type", "a"), ("type", "b")])
    assert ok.status_code == 200, ok.text
    body = assert_problem(
        client.get("/api/v1/public/risk-factors", params=[("limit", "5"), ("limit", "6")]), 422
    )
    assert _fields(body) == {"limit"}
