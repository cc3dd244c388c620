"""Test harness: a real PostGIS database built by the Alembic migrations.

The database (`vigia_test`, or VIGIA_TEST_DATABASE_URL; under pytest-xdist one per worker,
named with a `_gw0`, `_gw1`, ... suffix) is dropped and re-created once per run, migrated to
head and loaded with the Lanco territory. Each test runs inside a
transaction that is rolled back, so tests never see each other's writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from app import migrations as schema
from app.api.deps import get_session
from app.api.limits import SlidingWindow
from app.main import create_app
from app.risk_factors.webhooks import targets as webhook_targets
from app.settings import (
    CorsSettings,
    DatabaseSettings,
    KeyCacheSettings,
    TerritoryCacheSettings,
    TerritorySettings,
    get_limit_settings,
)
from app.territory import service as territory
from tests import fake_dns
from tests.factories.keys import Keys

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
LANCO_FILE = REPO / "data" / "barrios.geojson"
# the one origin the test app lets send keys (tests/test_cors.py)
ALLOWED_ORIGIN = "https://mapa.lanco.cl"


def _test_database_url() -> str:
    """VIGIA_TEST_DATABASE_URL, or `vigia_test` on VIGIA_DATABASE_URL's server; under
    pytest-xdist each worker gets its own database: the name plus `_gw0`, `_gw1`, ..."""
    explicit = os.environ.get("VIGIA_TEST_DATABASE_URL")
    if explicit:
        url = make_url(explicit)
    else:
        base = os.environ.get(
            "VIGIA_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/vigia"
        )
        url = make_url(base).set(database="vigia_test")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker:
        url = url.set(database=f"{url.database}_{worker}")
    return url.render_as_string(hide_password=False)


def pytest_configure(config: pytest.Config) -> None:
    """Code that opens its own connection from the settings (a CLI command's last step, say)
    reaches this worker's test database, never the one the developer works on."""
    os.environ["VIGIA_DATABASE_URL"] = _test_database_url()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `pytest -n N --dist loadgroup` (make test) a test file runs on one worker, as
    with loadfile; the files served by `live_server` share one worker (one server); the
    fuzzing cases, independent and half of the suite's time, spread over all of them."""
    served = {item.path for item in items if "live_server" in getattr(item, "fixturenames", ())}
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        if item.path in served:
            item.add_marker(pytest.mark.xdist_group("live_server"))
        elif item.path.name != "test_fuzz_schemathesis.py":
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


def _recreate_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url() -> str:
    url = _test_database_url()
    _recreate_database(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url)
    schema.upgrade(eng)
    with Session(eng) as session:
        lanco = territory.parse_territory(load_json(LANCO_FILE), TerritorySettings())
        territory.load_territory(session, lanco)
        session.commit()
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    """A session whose commits become savepoints inside the test's rolled-back transaction."""
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()


@pytest.fixture
def app(database_url: str, db: Session) -> Any:
    # no key cache: its invalidations arrive on commit, and these tests never commit
    # (tests/test_key_cache.py tests it on committed keys)
    application = create_app(
        DatabaseSettings(database_url=database_url),
        key_cache=KeyCacheSettings(ttl_s=0),
        cors=CorsSettings(origins=[ALLOWED_ORIGIN]),
        # nor the territory's: tests change barrios without committing (the notification
        # that empties it); tests/test_territory_cache.py tests it
        territory_cache=TerritoryCacheSettings(max_mb=0),
    )
    # a fresh in-memory budget per test (the shared PostgreSQL one: tests/test_load_*.py)
    limits = get_limit_settings()
    application.state.public_limiter = SlidingWindow(limits.public_requests, limits.window_s)
    application.state.auth_failure_limiter = SlidingWindow(limits.auth_failures, limits.window_s)

    def _session() -> Iterator[Session]:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    @contextmanager
    def _audit_unit_of_work() -> Iterator[Session]:
        # denials are audited in their own transaction: here, a savepoint of the test's
        yield db
        db.commit()

    application.dependency_overrides[get_session] = _session
    application.state.audit_unit_of_work = _audit_unit_of_work
    return application


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhook hosts resolve through a stub: no test sends a DNS query (tests/fake_dns.py)."""
    monkeypatch.setattr(webhook_targets, "resolve_host", fake_dns.default_resolver)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def keys(db: Session) -> Keys:
    """One key per role (tests/factories/keys.py), made for the test."""
    return Keys(db)


@pytest.fixture(scope="session")
def openapi(engine: Engine, database_url: str) -> dict[str, Any]:
    with TestClient(create_app(DatabaseSettings(database_url=database_url))) as c:
        return c.get("/openapi.json").json()


def load_json(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


@pytest.fixture(scope="session")
def live_server(engine: Engine, database_url: str) -> Iterator[str]:
    """Vigía served over real HTTP on loopback, for clients like OWSLib, GDAL or a browser.

    A separate process (GDAL holds the GIL while it reads, so an in-process server thread
    would deadlock). It sees committed data only: the Lanco territory loaded at session
    start, plus what a test commits and cleans up itself.
    """
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # the browser tests are one client (127.0.0.1) opening pages many times a minute, each
    # page a dozen requests without a key: lift the per-client public limit, as bench/map.py
    env = {
        **os.environ,
        "VIGIA_DATABASE_URL": database_url,
        "VIGIA_LIMIT_PUBLIC_REQUESTS": "1000000",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # importing the app takes ~40 s on a loaded 2-core machine
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("el servidor de pruebas no arrancó") from None
            time.sleep(0.1)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
