"""Rate limits shared by every worker through PostgreSQL, and X-Forwarded-* from trusted
proxies only (issue #13).

Two app instances on the same database stand for two `vigia serve --workers 2` processes
(and a third, started after them, for a restart). They commit rate-limit rows for a client
address of their own and delete them afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.api.limits import SlidingWindow
from app.cli import cli
from app.main import create_app
from app.models import RateLimitWindow
from app.settings import DatabaseSettings, LimitSettings, ProxySettings
from tests.helpers import assert_problem

CLIENT = ("198.51.100.77", 40000)  # TEST-NET-2: nobody else in the suite uses it
BARRIOS = "/api/v1/barrios"


@pytest.fixture
def clean_windows(engine: Engine) -> Iterator[None]:
    def wipe() -> None:
        with Session(engine) as session:
            session.execute(delete(RateLimitWindow).where(RateLimitWindow.client == CLIENT[0]))
            session.commit()

    wipe()
    yield
    wipe()


def worker(database_url: str, engine: Engine) -> FastAPI:
    """A fresh app instance, as another worker process would build it."""
    app = create_app(
        DatabaseSettings(database_url=database_url),
        limits=LimitSettings(public_requests=2, auth_failures=2, window_s=60),
    )

    @contextmanager
    def _discarded_audit() -> Iterator[Session]:
        # denials are audited in their own transaction: here one that is rolled back,
        # since the audit trail cannot be cleaned afterwards
        with Session(engine) as session:
            yield session
            session.rollback()

    app.state.audit_unit_of_work = _discarded_audit
    return app


def test_the_public_budget_spent_in_one_worker_holds_in_another_and_after_a_restart(
    engine: Engine, database_url: str, clean_windows: None
) -> None:
    with (
        TestClient(worker(database_url, engine), client=CLIENT) as one,
        TestClient(worker(database_url, engine), client=CLIENT) as two,
    ):
        assert one.get(BARRIOS).status_code == 200
        assert two.get(BARRIOS).status_code == 200
        refused = one.get(BARRIOS)
        assert_problem(refused, 429, "demasiadas_solicitudes")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert_problem(two.get(BARRIOS), 429)
        assert two.get("/health").status_code == 200  # monitoring is not limited
    with TestClient(worker(database_url, engine), client=CLIENT) as restarted:
        assert_problem(restarted.get(BARRIOS), 429)


def test_failed_authentications_counted_in_one_worker_block_the_other(
    engine: Engine, database_url: str, clean_windows: None
) -> None:
    wrong = {"Authorization": "Bearer vga_mala_clave"}
    with (
        TestClient(worker(database_url, engine), client=CLIENT) as one,
        TestClient(worker(database_url, engine), client=CLIENT) as two,
    ):
        assert_problem(one.get("/api/v1/me", headers=wrong), 401)
        assert_problem(two.get("/api/v1/me", headers=wrong), 401)
        response = one.get("/api/v1/me", headers=wrong)
        body = assert_problem(response, 429)
        assert "autenticaciones fallidas" in body["detail"]
        assert_problem(two.get("/api/v1/me", headers=wrong), 429)


# --- trusted proxies -----------------------------------------------------------------------


def proxied(database_url: str, trusted: str) -> FastAPI:
    app = create_app(
        DatabaseSettings(database_url=database_url),
        proxies=ProxySettings(trusted_proxies=trusted),
    )
    app.state.public_limiter = SlidingWindow(1, 60)  # one request per client address
    return app


def spoofing(client: TestClient, forwarded_for: str, **extra: str) -> Any:
    return client.get(BARRIOS, headers={"X-Forwarded-For": forwarded_for, **extra})


def test_forwarded_for_is_ignored_from_an_untrusted_peer(database_url: str, engine: Engine) -> None:
    app = proxied(database_url, "10.0.0.0/8")
    with TestClient(app, client=("203.0.113.9", 40000)) as client:
        landing = client.get(
            "/ogc", headers={"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Proto": "https"}
        )
        assert landing.status_code == 200
        assert all(link["href"].startswith("http://") for link in landing.json()["links"])
        assert_problem(spoofing(client, "192.0.2.2"), 429)  # rotating XFF does not help


def test_forwarded_for_is_ignored_from_loopback_by_default(database_url: str) -> None:
    app = proxied(database_url, "")
    with TestClient(app, client=("127.0.0.1", 40000)) as client:
        assert spoofing(client, "192.0.2.1").status_code == 200
        assert_problem(spoofing(client, "192.0.2.2"), 429)


def test_forwarded_headers_are_honoured_from_a_trusted_proxy(database_url: str) -> None:
    app = proxied(database_url, "10.0.0.0/8, 127.0.0.1")
    with TestClient(app, client=("10.1.2.3", 40000)) as proxy:
        assert spoofing(proxy, "192.0.2.1").status_code == 200
        assert spoofing(proxy, "192.0.2.2").status_code == 200  # another client
        assert_problem(spoofing(proxy, "192.0.2.1"), 429)  # the first one, again
        landing = proxy.get(
            "/ogc", headers={"X-Forwarded-For": "192.0.2.3", "X-Forwarded-Proto": "https"}
        )
    assert landing.status_code == 200
    assert all(link["href"].startswith("https://") for link in landing.json()["links"])


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    with pytest.raises(ValidationError, match="not an IP address"):
        ProxySettings(trusted_proxies="10.0.0.0/8, proxy.local")
    assert ProxySettings(trusted_proxies=" 10.0.0.0/8 ,::1").networks == ["10.0.0.0/8", "::1"]
    assert ProxySettings().networks == []


def test_serve_leaves_forwarded_headers_to_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr("app.cli.serve.uvicorn.run", lambda app, **kw: seen.update(kw))
    result = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert seen["workers"] == 2
    assert seen["proxy_headers"] is False  # uvicorn would trust any local peer
    assert seen["timeout_keep_alive"] > 60  # outlives nginx's idle upstream connections
