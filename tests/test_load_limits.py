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
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.api.limits import SlidingWindow
from app.api.shared_limits import PostgresWindow
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


def worker(database_url: str, engine: Engine, public: int = 2, lease: int = 10) -> FastAPI:
    """A fresh app instance, as another worker process would build it."""
    app = create_app(
        DatabaseSettings(database_url=database_url),
        limits=LimitSettings(
            public_requests=public, auth_failures=2, window_s=60, public_lease=lease
        ),
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


def recorded(engine: Engine, bucket: str = "publico") -> int:
    with Session(engine) as session:
        row = session.scalars(
            select(RateLimitWindow).where(
                RateLimitWindow.bucket == bucket, RateLimitWindow.client == CLIENT[0]
            )
        ).one_or_none()
        return 0 if row is None else len(row.hits)


def test_leased_slots_keep_every_worker_together_within_the_limit(
    engine: Engine, database_url: str, clean_windows: None
) -> None:
    # 40 per window, leases of 4: each worker records 4 slots, then serves 3 from memory
    with (
        TestClient(worker(database_url, engine, public=40, lease=4), client=CLIENT) as one,
        TestClient(worker(database_url, engine, public=40, lease=4), client=CLIENT) as two,
    ):
        assert one.get(BARRIOS).status_code == 200
        assert recorded(engine) == 4  # the lease is in PostgreSQL, where the other sees it
        assert one.get(BARRIOS).status_code == 200
        assert recorded(engine) == 4  # served from the lease: no database round trip
        codes = [c.get(BARRIOS).status_code for _ in range(30) for c in (one, two)]
        assert set(codes) <= {200, 429}
        assert 2 + codes.count(200) <= 40  # never more than the limit, across workers
        assert recorded(engine) <= 40
        assert_problem(one.get(BARRIOS), 429)
        assert_problem(two.get(BARRIOS), 429)


def test_a_lease_unused_for_a_second_is_dropped_and_stays_counted(
    engine: Engine, clean_windows: None
) -> None:
    now = [0.0]
    limiter = PostgresWindow(engine, "prueba-arriendo", 10, 60, lease=3, clock=lambda: now[0])
    assert limiter.hit(CLIENT[0]) is None
    assert limiter.hit(CLIENT[0]) is None  # from the lease
    assert recorded(engine, "prueba-arriendo") == 3
    now[0] += PostgresWindow.LEASE_S  # its last slot is now too old to hand out
    assert limiter.hit(CLIENT[0]) is None
    assert recorded(engine, "prueba-arriendo") == 6  # a new lease; the dropped slot counts
    admitted = 3
    while (wait := limiter.hit(CLIENT[0])) is None:
        admitted += 1
        now[0] += 0.1
    assert admitted == 9  # the limit, less the slot dropped unused
    assert 1 <= wait <= 60
    assert recorded(engine, "prueba-arriendo") == 10


def test_the_public_lease_is_at_most_a_tenth_of_the_limit(
    database_url: str, engine: Engine
) -> None:
    with TestClient(worker(database_url, engine, public=300, lease=10)) as client:
        assert client.app.state.public_limiter.lease == 10  # type: ignore[attr-defined]
    with TestClient(worker(database_url, engine, public=30, lease=10)) as client:
        assert client.app.state.public_limiter.lease == 3  # type: ignore[attr-defined]
    with TestClient(worker(database_url, engine, public=2, lease=10)) as client:
        assert client.app.state.public_limiter.lease == 1  # type: ignore[attr-defined]


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


def test_the_public_lease_lives_as_long_as_configured(
    database_url: str, engine: Engine, clean_windows: None
) -> None:
    # the service's public lease lives VIGIA_LIMIT_PUBLIC_LEASE_S (5 s by default)
    with TestClient(worker(database_url, engine, public=300, lease=10)) as client:
        assert client.app.state.public_limiter.lease_s == 5.0  # type: ignore[attr-defined]
    # a client reading every two seconds keeps using its lease: no round trip per request
    now = [0.0]
    limiter = PostgresWindow(
        engine, "prueba-arriendo", 100, 60, lease=5, lease_s=5.0, clock=lambda: now[0]
    )
    assert limiter.hit(CLIENT[0]) is None
    now[0] += 2.0
    assert limiter.hit(CLIENT[0]) is None
    now[0] += 2.0
    assert limiter.hit(CLIENT[0]) is None
    assert recorded(engine, "prueba-arriendo") == 5  # one lease served all three
    now[0] += 1.0  # five seconds after the lease: too old to hand out
    assert limiter.hit(CLIENT[0]) is None
    assert recorded(engine, "prueba-arriendo") == 10
