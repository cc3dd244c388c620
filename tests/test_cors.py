"""CORS: reads without a key open to every origin, keys only from allow-listed ones.

The browser side (a MapLibre page on another origin) is tests/test_cors_browser.py; here,
the headers each kind of request gets, preflights included.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.api.limits import SlidingWindow
from app.settings import CorsSettings
from tests.conftest import ALLOWED_ORIGIN
from tests.factories.keys import Keys, make_basic_headers
from tests.factories.risk import make_report_body
from tests.helpers import assert_problem

STRANGER = "https://otro-sitio.example"
PUBLIC_READS = [
    "/ogc/collections",
    "/ogc/collections/barrios/items?limit=1",
    "/ogc/collections/barrios/tiles/WebMercatorQuad",
    "/ogc/collections/barrios/tiles/WebMercatorQuad/12/1220/2537",
    "/api/v1/public/stats",
    "/api/v1/public/risk-factors",
    "/open311/v2/services.json",
    "/open311/v2/requests.json",
]


@pytest.mark.parametrize("path", PUBLIC_READS)
def test_public_reads_answer_any_origin_without_credentials(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Origin": STRANGER})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert "ETag" in response.headers["access-control-expose-headers"]


def test_a_keyed_read_gets_cors_only_from_an_allow_listed_origin(
    client: TestClient, keys: Keys
) -> None:
    allowed = client.get("/api/v1/me", headers=keys.h("planner", Origin=ALLOWED_ORIGIN))
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "Origin" in allowed.headers["vary"]
    assert "access-control-allow-credentials" not in allowed.headers
    stranger = client.get("/api/v1/me", headers=keys.h("planner", Origin=STRANGER))
    assert "access-control-allow-origin" not in stranger.headers  # the browser hides it


def test_a_preflight_is_answered_not_405(client: TestClient) -> None:
    without_origin = client.options("/ogc/collections")
    assert without_origin.status_code == 405  # not a CORS request: the routes answer
    allowed = client.options(
        "/api/v1/risk-factors",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    allowed_headers = allowed.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= {
        h.strip() for h in allowed_headers.split(",")
    }


@pytest.mark.parametrize(
    ("method", "asked"),
    [("GET", "authorization"), ("POST", "content-type"), ("DELETE", ""), ("GET", "x-otra")],
)
def test_a_stranger_may_not_preflight_keys_or_writes(
    client: TestClient, method: str, asked: str
) -> None:
    response = client.options(
        "/ogc/collections/complaints/items",
        headers={
            "Origin": STRANGER,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": asked,
        },
    )
    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-headers" not in response.headers


def test_a_stranger_may_preflight_a_public_read(client: TestClient) -> None:
    response = client.options(
        "/ogc/collections/barrios/items",
        headers={
            "Origin": STRANGER,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept-language",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "authorization" not in response.headers["access-control-allow-headers"].lower()


def test_basic_credentials_from_a_foreign_page_are_refused_and_write_nothing(
    client: TestClient, keys: Keys, db: Session
) -> None:
    """A browser may attach remembered Basic credentials by itself: that is what a forged
    cross-site form would ride on, so a foreign Origin with Basic never reaches a route."""
    count = text("select count(*) from risk_factor_report")
    start = db.scalar(count)
    response = client.post(
        "/api/v1/risk-factors",
        json=make_report_body(),
        headers={**make_basic_headers(keys.police), "Origin": STRANGER, "Idempotency-Key": "x1"},
    )
    assert_problem(response, 403, "origen_no_permitido")
    assert db.scalar(count) == start
    from_allowed = client.get(
        "/api/v1/me", headers={**make_basic_headers(keys.police), "Origin": ALLOWED_ORIGIN}
    )
    assert from_allowed.status_code == 200
    no_origin = client.get("/api/v1/me", headers=make_basic_headers(keys.police))  # QGIS, GDAL
    assert no_origin.status_code == 200


def test_a_rate_limited_answer_is_readable_by_the_page(app: Any, client: TestClient) -> None:
    app.state.public_limiter = SlidingWindow(1, 60)
    client.get("/ogc/collections", headers={"Origin": STRANGER})
    limited = client.get("/ogc/collections", headers={"Origin": STRANGER})
    assert limited.status_code == 429
    assert limited.headers["access-control-allow-origin"] == "*"
    assert "Retry-After" in limited.headers["access-control-expose-headers"]


@pytest.mark.parametrize(
    "value", ["*", "mapa.lanco.cl", "https://mapa.lanco.cl/ruta", "ftp://x.cl", "https://"]
)
def test_an_allowed_origin_must_be_a_bare_origin(value: str) -> None:
    with pytest.raises(ValidationError):
        CorsSettings(origins=value)  # type: ignore[arg-type]


def test_allowed_origins_are_read_from_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIA_CORS_ORIGINS", "https://a.cl, http://127.0.0.1:8122/")
    assert CorsSettings().origins == ["https://a.cl", "http://127.0.0.1:8122"]
