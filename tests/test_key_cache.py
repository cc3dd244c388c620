"""The cache of verified API keys never serves a key that was revoked, changed or expired.

The cache lives in each process and is told of revocations by PostgreSQL (NOTIFY on commit),
so these tests commit their keys (and delete them afterwards) and run real servers. The
audit trail cannot be cleaned, so keys are written and revoked with plain statements (the
trigger reacts to any writer, the revoke service included).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, text, update
from sqlalchemy.orm import Session

from app.api.limits import SlidingWindow
from app.identity.api_keys import KEY_PREFIX, cached_caller, hash_key
from app.identity.caller import Caller
from app.identity.key_cache import (
    KeyCache,
    KeyCacheListener,
    acknowledged,
    listener_conninfo,
    listener_name,
)
from app.main import create_app
from app.models import ApiKey, Role
from app.settings import DatabaseSettings, KeyCacheSettings
from tests.conftest import REPO
from tests.factories.keys import make_auth_headers


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Poll until `condition` holds (a start-up wait, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no ocurrió: {what}")
        time.sleep(0.05)


@pytest.fixture
def committed_keys(engine: Engine) -> Iterator[Callable[..., str]]:
    """Make committed keys (no audit event); delete them all at the end."""
    prefixes: list[str] = []

    def make(*, expires_at: datetime | None = None) -> str:
        prefix = KEY_PREFIX + secrets.token_hex(4)
        secret = f"{prefix}_{secrets.token_urlsafe(32)}"
        with Session(engine) as session:
            session.add(
                ApiKey(
                    prefix=prefix,
                    key_hash=hash_key(secret),
                    name="caché",
                    role=Role.PLANNER,
                    institution="municipalidad",
                    expires_at=expires_at,
                )
            )
            session.commit()
        prefixes.append(prefix)
        return secret

    yield make
    with Session(engine) as session:
        session.execute(delete(ApiKey).where(ApiKey.prefix.in_(prefixes)))
        session.commit()


def prefix_of(secret: str) -> str:
    return secret[: len(KEY_PREFIX) + 8]


def set_key(engine: Engine, secret: str, *, notify: bool = True, **values: object) -> None:
    """UPDATE a key and commit, as `vigia apikey revoke` does: returning once every
    listening process has evicted it. `notify=False` writes behind the trigger's back (as a
    lost notification would), to see whether an answer came from a cache."""
    statement = update(ApiKey).where(ApiKey.prefix == prefix_of(secret)).values(values)
    if not notify:
        with Session(engine) as session:
            session.execute(text("SET LOCAL session_replication_role = replica"))
            session.execute(statement)
            session.commit()
        return
    conninfo = listener_conninfo(engine.url.render_as_string(hide_password=False))
    with acknowledged(conninfo, prefix_of(secret)) as acks, Session(engine) as session:
        session.execute(statement)
        session.commit()
    assert acks.expected, "ningún proceso escuchaba"
    assert acks.missing == 0


def revoke(engine: Engine, secret: str) -> None:
    set_key(engine, secret, revoked_at=datetime.now(UTC))


# --- the cache alone ----------------------------------------------------------------------

CALLER = Caller(role=Role.PLANNER, institution="municipalidad", key_prefix="vga_00000000")
SECRET = "vga_00000000_secreto"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def warm(cache: KeyCache, *, expires_at: datetime | None = None) -> None:
    cache.store(cache.generation(), "vga_00000000", hash_key(SECRET), CALLER, expires_at)


def test_a_hit_needs_the_whole_secret_the_ttl_and_an_enabled_cache() -> None:
    clock = Clock()
    cache = KeyCache(ttl_s=60, max_entries=10, clock=clock)
    warm(cache)
    assert cached_caller(cache, SECRET) is None  # off until its listener runs LISTEN
    cache.enable()
    warm(cache)
    assert cached_caller(cache, SECRET) == CALLER
    assert cached_caller(cache, SECRET + "x") is None
    assert cached_caller(cache, "vga_00000000_otro") is None
    clock.now += 60
    assert cached_caller(cache, SECRET) is None


def test_a_cached_key_is_refused_once_it_expires_without_any_notification() -> None:
    cache = KeyCache(ttl_s=300, max_entries=10)
    cache.enable()
    expiry = datetime.now(UTC) + timedelta(minutes=1)
    warm(cache, expires_at=expiry)
    assert cached_caller(cache, SECRET, now=expiry - timedelta(seconds=1)) == CALLER
    assert cached_caller(cache, SECRET, now=expiry) is None


def test_the_cache_is_bounded_and_forgets_the_oldest_key() -> None:
    cache = KeyCache(ttl_s=60, max_entries=2)
    cache.enable()
    for n in range(3):
        cache.store(cache.generation(), f"vga_0000000{n}", "d", CALLER, None)
    assert len(cache) == 2
    assert cache.lookup("vga_00000000", "d", datetime.now(UTC)) is None
    assert cache.lookup("vga_00000002", "d", datetime.now(UTC)) == CALLER


def test_a_verification_that_raced_with_a_revocation_is_not_stored() -> None:
    cache = KeyCache(ttl_s=60, max_entries=10)
    cache.enable()
    before_lookup = cache.generation()
    cache.invalidate("vga_00000000")  # the revocation's NOTIFY, heard during the lookup
    cache.store(before_lookup, "vga_00000000", hash_key(SECRET), CALLER, None)
    assert cached_caller(cache, SECRET) is None


def test_a_listener_that_lost_its_connection_serves_nothing_it_cached_before(
    engine: Engine, database_url: str
) -> None:
    cache = KeyCache(ttl_s=60, max_entries=10)
    listener = KeyCacheListener(cache, listener_conninfo(database_url), retry_s=0.1)
    listener.start()
    try:
        wait_for(lambda: cache.enabled, "la caché escucha")
        warm(cache)
        assert cached_caller(cache, SECRET) == CALLER
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": listener_name()},
            )
            conn.commit()
        # at once (the closed socket is seen before the thread wakes), while reconnecting
        # (disabled), and after (flushed: revocations sent meanwhile were never heard)
        assert cached_caller(cache, SECRET) is None
        wait_for(lambda: not cache.enabled or len(cache) == 0, "la caché se vacía")
        assert cached_caller(cache, SECRET) is None
        wait_for(lambda: cache.enabled, "la caché vuelve a escuchar")
        assert cached_caller(cache, SECRET) is None
    finally:
        listener.stop()


# --- one process ----------------------------------------------------------------------------


@pytest.fixture
def cached_client(engine: Engine, database_url: str) -> Iterator[TestClient]:
    app = create_app(
        DatabaseSettings(database_url=database_url), key_cache=KeyCacheSettings(ttl_s=300)
    )
    # failures counted and denials audited in memory / a rolled-back transaction
    app.state.auth_failure_limiter = SlidingWindow(20, 60)
    app.state.public_limiter = SlidingWindow(300, 60)

    @contextmanager
    def _discarded_audit() -> Iterator[Session]:
        with Session(engine) as session:
            yield session
            session.rollback()

    app.state.audit_unit_of_work = _discarded_audit
    with TestClient(app) as client:
        wait_for(lambda: app.state.key_cache.enabled, "la caché escucha")
        yield client


def institution_seen(client: TestClient, secret: str) -> str:
    response = client.get("/api/v1/me", headers=make_auth_headers(secret))
    assert response.status_code == 200, response.text
    return str(response.json()["institution"])


def test_a_revoked_key_is_refused_on_the_next_request(
    engine: Engine, cached_client: TestClient, committed_keys: Callable[..., str]
) -> None:
    secret = committed_keys()
    assert institution_seen(cached_client, secret) == "municipalidad"
    set_key(engine, secret, notify=False, institution="oculta")
    assert institution_seen(cached_client, secret) == "municipalidad"  # served from the cache
    revoke(engine, secret)
    response = cached_client.get("/api/v1/me", headers=make_auth_headers(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "clave_revocada"


def test_a_cached_key_that_expires_is_refused(
    engine: Engine, cached_client: TestClient, committed_keys: Callable[..., str]
) -> None:
    secret = committed_keys(expires_at=datetime.now(UTC) + timedelta(days=1))
    assert institution_seen(cached_client, secret) == "municipalidad"
    set_key(engine, secret, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    response = cached_client.get("/api/v1/me", headers=make_auth_headers(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "clave_expirada"


# --- two processes --------------------------------------------------------------------------


def serve(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "VIGIA_DATABASE_URL": database_url, "VIGIA_KEY_CACHE_TTL_S": "300"}
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--log-level", "warning"], env=env, cwd=REPO
    )
    return process, f"http://127.0.0.1:{port}"


def get_me(url: str, secret: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url + "/api/v1/me", headers=make_auth_headers(secret))
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2):
            return True
    except OSError:
        return False


def started(process: subprocess.Popen[bytes], url: str) -> Callable[[], bool]:
    return lambda: answers(url) or process.poll() is not None


def test_a_key_revoked_is_refused_at_once_by_every_worker(
    engine: Engine, database_url: str, committed_keys: Callable[..., str]
) -> None:
    """Two single-worker servers (so each is surely hit), both with the key cached.

    Their denials are audited for real (the audit trail is append-only and keeps them);
    the failures they count are wiped at the end.
    """
    secret = committed_keys()
    servers = [serve(database_url), serve(database_url)]
    urls = [url for _, url in servers]
    try:
        for process, url in servers:
            wait_for(started(process, url), "el servidor de prueba arranca", 180)
            assert process.poll() is None, "el servidor de prueba no arrancó"
        listening = text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name IN (:one, :two) "
            "AND datname = current_database() AND query IN ('LISTEN \"vigia_api_key\"', 'SELECT 1')"
        )
        # these two servers' listeners, whatever other servers (live_server) also listen
        names = {"one": listener_name(servers[0][0].pid), "two": listener_name(servers[1][0].pid)}
        with engine.connect() as conn:
            wait_for(
                lambda: conn.execute(listening, names).scalar() == 2,
                "las dos cachés escuchan",
                180,  # as the start-up above: a loaded machine (load 8) took over 60 s
            )
        for url in urls:  # warm each worker's cache
            assert get_me(url, secret)[0] == 200
        set_key(engine, secret, notify=False, institution="oculta")
        for url in urls:  # both answer from their cache
            status, body = get_me(url, secret)
            assert (status, body["institution"]) == (200, "municipalidad")

        revoke(engine, secret)

        for _ in range(5):  # 10 refusals: under the 20 failures that would bring a 429
            for url in urls:
                status, body = get_me(url, secret)
                assert (status, body["code"]) == (401, "clave_revocada"), url
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM rate_limit_window WHERE bucket = 'autenticacion'"))
