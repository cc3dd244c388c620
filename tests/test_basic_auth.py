"""HTTP Basic with the key as the password (QGIS, GDAL): the same key, checked the same way.

Bearer and Basic both reach `app.api.deps.identify`, so these tests show each property a
Bearer key has (identity, revocation, expiry, failure limits, audit, the key cache) holding
for Basic too, and that keys are refused in URLs.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.api.deps import presented_key
from app.api.limits import SlidingWindow
from app.models import AuditEvent, Role
from tests.factories.keys import Keys, make_auth_headers, make_basic_headers, make_key
from tests.factories.risk import make_report_body
from tests.helpers import assert_problem
from tests.test_key_cache import cached_client, committed_keys, revoke  # noqa: F401


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer vga_a_b", "vga_a_b"),
        ("bearer  vga_a_b ", "vga_a_b"),
        ("Basic " + base64.b64encode(b"vigia:vga_a_b").decode(), "vga_a_b"),
        ("Basic " + base64.b64encode(b":vga_a_b").decode(), "vga_a_b"),
        ("Basic " + base64.b64encode(b"cualquiera:vga:con:dos").decode(), "vga:con:dos"),
        ("Basic " + base64.b64encode(b"vga_a_b").decode(), ""),  # no password
        ("Basic no-es-base64!", ""),
        ("Basic " + base64.b64encode(b"u:\xff").decode(), ""),  # not UTF-8
        ("Digest abc", ""),
        ("vga_a_b", ""),
        ("", ""),
    ],
)
def test_the_key_is_the_bearer_token_or_the_basic_password(header: str, expected: str) -> None:
    assert presented_key(header) == expected


def test_basic_with_the_key_as_password_identifies_its_holder(
    client: TestClient, db: Session
) -> None:
    secret = make_key(db, role=Role.POLICE, institution="Carabineros")
    for user in ("vigia", "qgis", ""):
        response = client.get("/api/v1/me", headers=make_basic_headers(secret, user=user))
        assert response.status_code == 200, response.text
        assert response.json()["role"] == "police"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda db: "vga_nada_nada", "clave_invalida"),
        (lambda db: make_key(db, revoked=True), "clave_revocada"),
        (
            lambda db: make_key(db, expires_at=datetime.now(UTC) - timedelta(minutes=1)),
            "clave_expirada",
        ),
    ],
)
def test_a_bad_key_over_basic_is_refused_like_over_bearer(
    client: TestClient, db: Session, make: Callable[[Session], str], code: str
) -> None:
    secret = make(db)
    basic = client.get("/api/v1/me", headers=make_basic_headers(secret))
    bearer = client.get("/api/v1/me", headers=make_auth_headers(secret))
    assert_problem(basic, 401, code)
    assert_problem(bearer, 401, code)
    # never a Basic challenge: a browser would prompt, then send the key with every request
    assert basic.headers["www-authenticate"].startswith("Bearer")


def test_a_malformed_basic_header_is_401_naming_both_forms(client: TestClient) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": "Basic %%%"})
    body = assert_problem(response, 401, "clave_invalida")
    assert "Basic" in body["detail"]
    assert "Bearer" in body["detail"]
    assert "basic" not in response.headers["www-authenticate"].lower()


def test_failed_basic_attempts_count_against_the_same_budget(
    app: Any, client: TestClient, db: Session
) -> None:
    app.state.auth_failure_limiter = SlidingWindow(3, 60)
    good = make_basic_headers(make_key(db, role=Role.ADMIN))
    client.get("/api/v1/me", headers=make_auth_headers("vga_mala_1"))
    for _ in range(2):
        assert_problem(client.get("/api/v1/me", headers=make_basic_headers("vga_mala_2")), 401)
    assert_problem(client.get("/api/v1/me", headers=make_basic_headers("vga_mala_3")), 429)
    assert_problem(client.get("/api/v1/me", headers=good), 429)


def test_a_write_over_basic_is_audited_with_the_keys_identity(
    client: TestClient, keys: Keys, db: Session
) -> None:
    response = client.post(
        "/api/v1/risk-factors",
        json=make_report_body(),
        headers={**make_basic_headers(keys.police), "Idempotency-Key": "basic-0001"},
    )
    assert response.status_code == 201, response.text
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.object_id == response.json()["id"])
    ).first()
    assert event is not None
    assert event.role == "police"
    assert event.institution == "carabineros"


def test_a_revoked_key_is_refused_over_basic_on_the_next_request(
    engine: Engine,
    cached_client: TestClient,  # noqa: F811
    committed_keys: Callable[..., str],  # noqa: F811
) -> None:
    secret = committed_keys()
    headers = make_basic_headers(secret)
    assert cached_client.get("/api/v1/me", headers=headers).status_code == 200
    assert cached_client.get("/api/v1/me", headers=headers).status_code == 200  # cached
    revoke(engine, secret)
    assert_problem(cached_client.get("/api/v1/me", headers=headers), 401, "clave_revocada")


@pytest.mark.parametrize("name", ["api_key", "apikey", "key", "access_token", "token"])
def test_keys_are_refused_in_urls(client: TestClient, keys: Keys, name: str) -> None:
    response = client.get("/ogc/collections", params={name: keys.planner})
    body = assert_problem(response, 400)
    assert body["errors"] == [{"field": name, "location": "query", "reason": "clave en la URL"}]
    assert keys.planner not in response.text


def test_the_openapi_offers_bearer_and_basic(openapi: dict[str, Any]) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["HTTPBasic"]["scheme"] == "basic"
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    me = openapi["paths"]["/api/v1/me"]["get"]["security"]
    assert {"HTTPBasic": []} in me
    assert {"HTTPBearer": []} in me
