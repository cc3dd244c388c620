"""How many worker-thread hops a small request takes, and what the pool does at checkout.

On a 2-core machine each hop to the thread pool and each round trip to PostgreSQL is a
visible share of a small page (docs/benchmarks.md, issue 15). These tests pin the shape of
the request path, not its speed: an OGC page or tile is read and committed in ONE hop; a
public request admitted from a leased slot or a route that never touched the database takes
no extra hop; a pooled connection is checked without a round trip, and one the server has
closed is replaced before a request sees it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.api.limits import SlidingWindow
from app.db import make_engine
from app.main import create_app
from app.settings import (
    DatabaseSettings,
    KeyCacheSettings,
    LimitSettings,
    TerritoryCacheSettings,
)
from tests.helpers import assert_problem

MICRO = "/ogc/collections/micro-barrios"


@pytest.fixture
def served(database_url: str, engine: Engine) -> Iterator[tuple[TestClient, list[str]]]:
    """The real session dependency (no test override), and the hops it takes."""
    app: FastAPI = create_app(
        DatabaseSettings(database_url=database_url),
        key_cache=KeyCacheSettings(ttl_s=0),
        # the uncached path (a cached page takes none: tests/test_territory_cache.py)
        territory_cache=TerritoryCacheSettings(max_mb=0),
    )
    app.state.public_limiter = SlidingWindow(10**6, 60)  # answered in memory
    hops: list[str] = []
    real = anyio.to_thread.run_sync

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(func, "__qualname__", repr(func)))
        return await real(func, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch, TestClient(app) as client:
        patch.setattr(anyio.to_thread, "run_sync", counting)
        yield client, hops
        assert app.state.engine.pool.checkedout() == 0  # every connection went back


def test_a_page_is_read_and_committed_in_one_hop(served: tuple[TestClient, list[str]]) -> None:
    client, hops = served
    response = client.get(f"{MICRO}/items", params={"limit": 2})
    assert response.status_code == 200
    assert response.json()["numberReturned"] == 2
    assert len(hops) == 1, hops


def test_a_tile_is_read_and_committed_in_one_hop(served: tuple[TestClient, list[str]]) -> None:
    client, hops = served
    response = client.get(f"{MICRO}/tiles/WebMercatorQuad/10/305/628")
    assert response.status_code == 200
    assert len(hops) == 1, hops


def test_a_route_that_reads_nothing_takes_no_hop_to_end_its_session(
    served: tuple[TestClient, list[str]],
) -> None:
    client, hops = served
    assert client.get(f"{MICRO}/tiles").status_code == 200  # sync route, no database
    # the route and FastAPI's check of its response model; no hop to end an empty session
    assert not [hop for hop in hops if "_finish" in hop], hops
    assert len(hops) == 2, hops


def test_a_page_that_fails_in_postgresql_rolls_back_and_returns_its_connection(
    served: tuple[TestClient, list[str]],
) -> None:
    client, _ = served
    bad = client.get(f"{MICRO}/items", params={"filter": "population / 0 > 1"})
    assert_problem(bad, 400)
    assert client.get(f"{MICRO}/items", params={"limit": 1}).status_code == 200


def test_checkout_sends_no_ping(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(DatabaseSettings(database_url=database_url))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

        def no_ping(_dbapi_connection: object) -> bool:
            raise AssertionError("a round trip at checkout")

        monkeypatch.setattr(engine.dialect, "do_ping", no_ping)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_a_connection_the_server_closed_is_replaced_at_checkout(database_url: str) -> None:
    engine = make_engine(DatabaseSettings(database_url=database_url))
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as conn:  # a healthy connection is reused
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == first
        other = make_engine(DatabaseSettings(database_url=database_url))
        with other.connect() as killer:
            assert killer.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar()
            for _ in range(50):  # until the backend is gone
                gone = not killer.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": first}
                ).scalar()
                if gone:
                    break
                time.sleep(0.05)
        other.dispose()
        with engine.connect() as conn:  # no error: the dead one was dropped at checkout
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first
    finally:
        engine.dispose()


def test_a_public_request_admitted_from_a_leased_slot_takes_no_hop_for_the_limit(
    database_url: str, engine: Engine
) -> None:
    app = create_app(
        DatabaseSettings(database_url=database_url),
        key_cache=KeyCacheSettings(ttl_s=0),
        limits=LimitSettings(public_requests=10_000, public_lease=10),
        territory_cache=TerritoryCacheSettings(max_mb=0),  # the page itself takes its hop
    )
    hops: list[str] = []
    real = anyio.to_thread.run_sync

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(func, "__qualname__", repr(func)))
        return await real(func, *args, **kwargs)

    client_address = ("198.51.100.78", 40000)  # TEST-NET-2, this test's own budget row
    try:
        with (
            pytest.MonkeyPatch.context() as patch,
            TestClient(app, client=client_address) as client,
        ):
            patch.setattr(anyio.to_thread, "run_sync", counting)
            assert client.get(f"{MICRO}/items", params={"limit": 1}).status_code == 200
            assert [
                hop for hop in hops if "PostgresWindow.hit" in hop
            ]  # the lease: one round trip, off the loop
            hops.clear()
            assert client.get(f"{MICRO}/items", params={"limit": 1}).status_code == 200
            assert not [hop for hop in hops if "PostgresWindow.hit" in hop], hops
            assert len(hops) == 1, hops
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("DELETE FROM rate_limit_window WHERE client = :c"), {"c": client_address[0]}
            )


def test_a_request_is_not_matched_against_the_routes_of_another_prefix(
    served: tuple[TestClient, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OGC tile is not tried against the 80 routes of /api/v1 first (nor an API request
    against /ogc and /open311/v2): `app.api.routing.PrefixedRouter`."""
    client, _ = served
    tried: list[str] = []
    real = APIRoute.matches

    def spy(route: APIRoute, scope: Any) -> Any:
        tried.append(route.endpoint.__module__)
        return real(route, scope)

    monkeypatch.setattr(APIRoute, "matches", spy)
    # (a tile or an items page is answered first by its DirectRoute: tests/test_direct_routes)
    assert client.get(f"{MICRO}/tiles/WebMercatorQuad").status_code == 200
    assert tried, "the spy saw no route: it no longer watches how routes are matched"
    # /health (one route, no prefix) comes first; then only the OGC routers
    assert set(tried) <= {"app.api.health", "app.ogc.routes", "app.ogc.tile_routes"}, tried

    tried.clear()
    assert client.get("/api/v1/categories").status_code == 200
    outside = {m for m in tried if m.startswith(("app.ogc", "app.risk_factors.open311"))}
    assert not outside, outside

    # what the prefix does not decide is matched as before: an unknown path under the
    # prefix, a known path with the wrong method, a path that only shares the first letters
    assert_problem(client.get("/ogc/collections/complaints/nada"), 404)
    assert client.post("/ogc/conformance").status_code == 405
    assert_problem(client.get("/ogcx"), 404)
    assert client.get("/ogc").status_code == 200
