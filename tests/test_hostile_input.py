"""Hostile input: each answered with a problem, never a 5xx, and nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.api.limits import SlidingWindow, json_depth
from app.main import create_app
from app.models import AuditEvent, Role
from tests.factories.complaints import complaint_count, make_complaint_json
from tests.factories.keys import Keys, make_auth_headers, make_key
from tests.factories.risk import counts, make_report_body
from tests.helpers import assert_problem

RISK = "/api/v1/risk-factors"
COMPLAINTS = "/api/v1/complaints"
ONE = make_complaint_json("H-1")


def _state(db: Session) -> tuple[dict[str, int], int]:
    return counts(db), complaint_count(db)


def test_oversized_body_is_413_before_parsing(client: TestClient, db: Session, keys: Keys) -> None:
    before = _state(db)
    big = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    response = client.post(
        RISK, content=big, headers=keys.h("police", **{"Content-Type": "application/json"})
    )
    body = assert_problem(response, 413, "contenido_demasiado_grande")
    assert "1 MB" in body["detail"]
    # a declared length over the limit is refused without reading a byte
    huge = client.post(
        COMPLAINTS,
        content=b"{}",
        headers={**keys.h("police"), "Content-Type": "application/json", "Content-Length": "9" * 9},
    )
    assert_problem(huge, 413)
    assert _state(db) == before


def test_streamed_body_over_the_limit_is_413(client: TestClient, db: Session, keys: Keys) -> None:
    before = _state(db)

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * (128 * 1024)

    response = client.post(
        "/api/v1/projects",
        content=chunks(),
        headers={**keys.h("admin"), "Content-Type": "text/plain"},
    )
    assert_problem(response, 413, "contenido_demasiado_grande")
    # Open311 answers in its own error format, with the same status
    response = client.post(
        "/open311/v2/requests.json",
        content=chunks(),
        headers={**keys.h("police"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.json()[0]["code"] == 413
    assert _state(db) == before


def test_deeply_nested_json_is_400(client: TestClient, db: Session, keys: Keys) -> None:
    before = _state(db)
    nested: Any = 1
    for _ in range(200):
        nested = {"a": nested}
    body = make_report_body(attributes={"poste_id": nested})
    response = client.post(RISK, json=body, headers=keys.h("police"))
    assert_problem(response, 400, "json_demasiado_profundo")
    assert json_depth(b'{"a": "[[[[", "b": [[1]]}') == 3
    assert _state(db) == before


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_rejected_everywhere(
    client: TestClient, db: Session, keys: Keys, token: bytes
) -> None:
    before = _state(db)
    raw = (
        b'{"type": "luminaria_apagada", "geometry": {"type": "Point", "coordinates": [%s, -39.45]}}'
    )
    response = client.post(
        RISK, content=raw % token, headers=keys.h("police", **{"Content-Type": "application/json"})
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "geometry.coordinates.0"
    attrs = b'{"luminarias_afectadas": %s}' % token
    raw2 = (
        b'{"type": "luminaria_apagada", "severity": 2, "observed_at": "2025-01-01T00:00:00Z",'
        b'"geometry": {"type": "Point", "coordinates": [-72.775, -39.452]}, "attributes": '
        + attrs
        + b"}"
    )
    response = client.post(
        RISK, content=raw2, headers=keys.h("police", **{"Content-Type": "application/json"})
    )
    assert_problem(response, 422)
    assert _state(db) == before


@pytest.mark.parametrize(
    ("path", "role", "body"),
    [
        (RISK, "police", make_report_body(institution="pdi")),
        (RISK, "police", make_report_body(status="resuelto")),
        (COMPLAINTS, "police", {**ONE, "loaded_by": "otro"}),
        ("/api/v1/projects", "admin", {"comuna": "14103", "name": "x", "typology": "IL", "id": 9}),
        ("/api/v1/webhooks", "unit", {"comuna": "14103", "url": "https://x.cl", "secret": "s"}),
    ],
)
def test_extra_fields_are_rejected(
    client: TestClient, db: Session, keys: Keys, path: str, role: str, body: dict[str, Any]
) -> None:
    before = _state(db)
    problem = assert_problem(client.post(path, json=body, headers=keys.h(role)), 422)
    assert any(e["reason"] == "campo no permitido" for e in problem["errors"])
    assert _state(db) == before


INJECTIONS = ["'; DROP TABLE complaint; --", "1 OR 1=1", "barrio; SELECT pg_sleep(5)", "\u0000"]


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_strings_in_filters_and_sort_keys(
    client: TestClient, db: Session, keys: Keys, value: str
) -> None:
    before = _state(db)
    for path, params in (
        (COMPLAINTS, {"barrio": value}),
        (COMPLAINTS + "/stats", {"group_by": value}),
        (COMPLAINTS, {"category": value}),
        (RISK, {"type": value, "unit": value}),
        (RISK, {"status": value}),
        ("/api/v1/audit", {"action": value}),
        ("/api/v1/public/stats", {"family": value}),
    ):
        response = client.get(path, params=params, headers=keys.h("admin"))
        assert response.status_code < 500, (path, response.text)
        if response.status_code != 200:
            assert_problem(response, response.status_code)
        elif isinstance(response.json(), dict):
            assert response.json().get("features", []) == []
    tables = set(inspect(db.connection()).get_table_names())
    assert {"complaint", "risk_factor_report", "audit_event"} <= tables
    assert _state(db) == before


def test_failed_authentication_is_rate_limited(app: Any, client: TestClient, db: Session) -> None:
    app.state.auth_failure_limiter = SlidingWindow(3, 60)
    good = make_auth_headers(make_key(db, role=Role.ADMIN))
    for _ in range(3):
        assert_problem(client.get("/api/v1/me", headers=make_auth_headers("vga_mala_clave")), 401)
    response = client.get("/api/v1/me", headers=make_auth_headers("vga_mala_clave"))
    body = assert_problem(response, 429, "demasiadas_solicitudes")
    assert int(response.headers["retry-after"]) >= 1
    assert "autenticaciones fallidas" in body["detail"]
    # even a good key waits: the IP is the one guessing
    assert_problem(client.get("/api/v1/me", headers=good), 429)
    denied = db.scalars(select(AuditEvent).where(AuditEvent.outcome == "denegado")).all()
    assert any(e.detail["status"] == 429 for e in denied)


def test_public_endpoints_are_rate_limited(app: Any, client: TestClient, db: Session) -> None:
    app.state.public_limiter = SlidingWindow(2, 60)
    before = _state(db)
    assert client.get("/api/v1/public/risk-factors").status_code == 200
    assert client.get("/api/v1/barrios").status_code == 200
    response = client.get("/api/v1/public/stats")
    assert_problem(response, 429, "demasiadas_solicitudes")
    assert response.headers["retry-after"]
    assert client.get("/health").status_code == 200  # monitoring is not limited
    assert _state(db) == before


def test_sliding_window_forgets_old_events() -> None:
    now = [0.0]
    window = SlidingWindow(2, 10, clock=lambda: now[0])
    assert window.hit("ip") is None
    assert window.hit("ip") is None
    assert window.hit("ip") == 10
    now[0] = 10.5
    assert window.hit("ip") is None


def test_writes_answer_503_when_the_database_is_down() -> None:
    from app.settings import DatabaseSettings

    down = create_app(DatabaseSettings(database_url="postgresql+psycopg://x@127.0.0.1:1/nadie"))
    with TestClient(down, raise_server_exceptions=False) as client:
        for path, body in ((RISK, make_report_body()), (COMPLAINTS, ONE)):
            response = client.post(path, json=body, headers=make_auth_headers("vga_a_b"))
            problem = assert_problem(response, 503, "servicio_no_disponible")
            assert response.headers["retry-after"]
            assert "psycopg" not in response.text
            assert problem["request_id"]


def test_repeated_single_valued_query_parameter_is_a_422(client: TestClient) -> None:
    body = assert_problem(
        client.get(
            "/api/v1/locate", params=[("lon", "-72.775"), ("lon", "-72.7"), ("lat", "-39.45")]
        ),
        422,
    )
    assert body["errors"] == [{"field": "lon", "location": "query", "reason": "parámetro repetido"}]
