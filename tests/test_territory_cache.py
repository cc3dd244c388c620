"""Territorial OGC responses kept in memory are never served after a territory load.

The cache (app/ogc/response_cache.py) lives in each process and is emptied by PostgreSQL
(`NOTIFY vigia_territory` on the load's commit). The last test runs two real servers and
commits a territory load, as `vigia territory load` does; it restores the Lanco territory
the session loaded.
"""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.api.limits import SlidingWindow
from app.identity.key_cache import acknowledged, listener_conninfo, listener_name
from app.main import create_app
from app.ogc.collections import REGISTRY
from app.ogc.response_cache import ResponseCache, not_modified
from app.settings import DatabaseSettings, KeyCacheSettings, TerritorySettings
from app.territory import service as territory
from tests.conftest import LANCO_FILE, REPO, load_json
from tests.test_key_cache import answers, wait_for

MICRO = "/ogc/collections/micro-barrios"
TILE = f"{MICRO}/tiles/WebMercatorQuad/14/4879/10148"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the cache alone ----------------------------------------------------------------------


def test_it_serves_nothing_until_enabled_and_forgets_everything_when_disabled() -> None:
    cache = ResponseCache(max_bytes=1000, ttl_s=60)
    cache.store(cache.generation(), "a", b"x", "text/plain")
    assert cache.lookup("a") is None
    assert len(cache) == 0
    cache.enable()
    cache.store(cache.generation(), "a", b"x", "text/plain")
    assert cache.lookup("a") is not None
    cache.disable()
    assert cache.lookup("a") is None
    assert len(cache) == 0


def test_a_read_that_raced_with_a_load_is_not_kept() -> None:
    cache = ResponseCache(max_bytes=1000, ttl_s=60)
    cache.enable()
    before = cache.generation()
    cache.invalidate("0104")  # a territory load committed while the page was being read
    cache.store(before, "a", b"old", "text/plain")
    assert cache.lookup("a") is None


def test_a_load_empties_it_and_a_pending_notification_refuses_hits() -> None:
    cache = ResponseCache(max_bytes=1000, ttl_s=60)
    cache.enable()
    cache.store(cache.generation(), "a", b"x", "text/plain")
    cache.pending = lambda: True
    assert cache.lookup("a") is None
    cache.pending = lambda: False
    assert cache.lookup("a") is not None
    cache.invalidate("16103")
    assert cache.lookup("a") is None
    assert len(cache) == 0


def test_it_is_bounded_in_bytes_oldest_first_and_in_time() -> None:
    clock = Clock()
    cache = ResponseCache(max_bytes=25, ttl_s=60, clock=clock)
    cache.enable()
    for key in "abc":
        cache.store(cache.generation(), key, b"0123456789", "text/plain")  # 11 bytes each
    assert cache.lookup("a") is None  # the oldest went
    assert cache.lookup("b") is not None
    assert cache.lookup("c") is not None
    cache.store(cache.generation(), "big", b"x" * 100, "text/plain")  # larger than all
    assert cache.lookup("big") is None
    assert cache.lookup("c") is not None
    clock.now += 60
    assert cache.lookup("c") is None


def test_if_none_match() -> None:
    assert not_modified('"a"', '"b", W/"a"')
    assert not_modified('"a"', "*")
    assert not not_modified('"a"', '"b"')
    assert not not_modified('"a"', None)


def test_only_territorial_collections_the_same_for_everyone_are_cacheable() -> None:
    cacheable = {cid for cid, c in REGISTRY.items() if c.cacheable}
    assert cacheable == {"barrios", "micro-barrios"}
    # public but read from a scoped table; scoped; audited: never
    for cid in ("risk-factors-public", "risk-factors", "complaints", "ranking-barrios"):
        assert not REGISTRY[cid].cacheable


# --- through the app ----------------------------------------------------------------------


@pytest.fixture
def cached_app(database_url: str, engine: Engine) -> Iterator[tuple[TestClient, ResponseCache]]:
    """The real app and session, its territory cache on (as a listener would turn it on)."""
    app: FastAPI = create_app(
        DatabaseSettings(database_url=database_url), key_cache=KeyCacheSettings(ttl_s=0)
    )
    app.state.public_limiter = SlidingWindow(10**6, 60)
    with TestClient(app) as client:
        cache = ResponseCache(max_bytes=10**7, ttl_s=300)
        cache.enable()
        app.state.territory_cache = cache
        yield client, cache


def test_a_cached_page_and_tile_are_the_bytes_read_from_postgresql(
    cached_app: tuple[TestClient, ResponseCache], keys: Any
) -> None:
    client, cache = cached_app
    for path, params in (
        (f"{MICRO}/items", {"limit": 3}),
        (f"{MICRO}/items", {"limit": 2, "offset": 4, "filter": "population > 0"}),
        ("/ogc/collections/barrios/items", {"code": "B01002"}),
        (TILE, {}),
    ):
        first = client.get(path, params=params)
        assert first.status_code == 200
        cache.disable()  # read again from the database
        fresh = client.get(path, params=params)
        cache.enable()
        again = client.get(path, params=params)
        assert first.content == fresh.content == again.content, path
        assert first.headers["content-type"] == again.headers["content-type"]
        assert again.headers["etag"] == first.headers["etag"]
        assert cache.lookup(str(again.url)) is not None  # kept, under its URL


def test_an_etag_answers_304(cached_app: tuple[TestClient, ResponseCache]) -> None:
    client, _ = cached_app
    for path in (f"{MICRO}/items", TILE):
        first = client.get(path)
        etag = first.headers["etag"]
        revalidated = client.get(path, headers={"If-None-Match": etag})
        assert (revalidated.status_code, revalidated.content) == (304, b"")
        assert revalidated.headers["etag"] == etag
        assert client.get(path, headers={"If-None-Match": '"otra"'}).status_code == 200
    tile = client.get(TILE)
    assert tile.headers["cache-control"].startswith("public")


def test_errors_and_other_collections_are_not_kept(
    cached_app: tuple[TestClient, ResponseCache], keys: Any
) -> None:
    client, cache = cached_app
    assert client.get(f"{MICRO}/items", params={"filter": "population / 0 > 1"}).status_code == 400
    assert client.get(f"{MICRO}/items", params={"limit": 0}).status_code == 422
    assert client.get("/ogc/collections/risk-factors-public/items").status_code == 200
    assert len(cache) == 0


def test_a_cached_page_takes_no_worker_thread(
    cached_app: tuple[TestClient, ResponseCache], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = cached_app
    assert client.get(f"{MICRO}/items", params={"limit": 2}).status_code == 200
    assert client.get(TILE).status_code == 200
    hops: list[str] = []
    real = anyio.to_thread.run_sync

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(func, "__qualname__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    assert client.get(f"{MICRO}/items", params={"limit": 2}).status_code == 200
    assert client.get(TILE).status_code == 200
    assert hops == []


# --- a load, seen at once by every worker --------------------------------------------------


def serve(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "VIGIA_DATABASE_URL": database_url,
        "VIGIA_LIMIT_PUBLIC_REQUESTS": "1000000",
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--log-level", "warning"], env=env, cwd=REPO
    )
    return process, f"http://127.0.0.1:{port}"


def names_of(url: str, code: str) -> str:
    with urllib.request.urlopen(f"{url}{MICRO}/items?code={code}", timeout=30) as response:
        return str(orjson.loads(response.read())["features"][0]["properties"]["name"])


def load(engine: Engine, document: dict[str, Any]) -> None:
    """As `vigia territory load`: commit, and return once every listener emptied its cache."""
    parsed = territory.parse_territory(document, TerritorySettings())
    conninfo = listener_conninfo(engine.url.render_as_string(hide_password=False))
    with (
        acknowledged(conninfo, parsed.comuna.code, channel=territory.CHANNEL) as acks,
        Session(engine) as session,
    ):
        territory.load_territory(session, parsed)
        session.commit()
    assert acks.expected, "ningún proceso escuchaba"
    assert acks.missing == 0


def test_a_territory_load_is_seen_at_once_by_every_worker(
    engine: Engine, database_url: str
) -> None:
    original = load_json(LANCO_FILE)
    renamed = copy.deepcopy(original)
    unit = next(f for f in renamed["features"] if f["properties"].get("level") == "micro_barrio")
    code = unit["properties"]["code"]
    unit["properties"]["name"] = "Renombrado en la prueba"
    servers = [serve(database_url), serve(database_url)]
    urls = [url for _, url in servers]
    try:
        for process, url in servers:
            wait_for(lambda p=process, u=url: answers(u) or p.poll() is not None, "arranca", 180)
            assert process.poll() is None, "el servidor de prueba no arrancó"
        listening = text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name IN (:one, :two) "
            "AND datname = current_database() AND query IN ('LISTEN \"vigia_api_key\"', 'SELECT 1')"
        )
        names = {"one": listener_name(servers[0][0].pid), "two": listener_name(servers[1][0].pid)}
        with engine.connect() as conn:
            wait_for(lambda: conn.execute(listening, names).scalar() == 2, "las dos escuchan")
        before = {url: names_of(url, code) for url in urls}  # each worker keeps the page
        with engine.begin() as conn:  # behind the loader's back: no notification
            conn.execute(
                text("UPDATE micro_barrio SET name = 'oculto' WHERE code = :c"), {"c": code}
            )
        assert {url: names_of(url, code) for url in urls} == before  # served from memory

        load(engine, renamed)

        for url in urls:
            assert names_of(url, code) == "Renombrado en la prueba", url
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        with Session(engine) as session:  # the session's territory, as it was
            territory.load_territory(
                session, territory.parse_territory(original, TerritorySettings())
            )
            session.commit()
