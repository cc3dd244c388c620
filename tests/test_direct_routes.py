"""The OGC tile and items page are answered by `app.api.routing.DirectRoute` (issue 15).

It runs the route's own dependencies, validation and endpoint from a list compiled once,
instead of FastAPI's per-request resolution. These tests hold it to the route it shadows:
the same answers (data, problems, headers) as the app without it, FastAPI's resolution never
entered for those reads, and what it cannot run refused when the app is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fastapi.routing
import pytest
from fastapi import BackgroundTasks, Body, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api.limits import SlidingWindow
from app.api.routing import DirectRoute, serve_directly
from app.main import create_app
from app.settings import DatabaseSettings, KeyCacheSettings, TerritoryCacheSettings
from tests.factories.risk import LANCO_TOWN
from tests.test_ogc_layers import tile_of

MICRO = "/ogc/collections/micro-barrios"
BARRIOS = "/ogc/collections/barrios"
_VOLATILE = {"instance", "request_id", "requestId", "traceId", "date", "x-request-id"}


def _app(database_url: str, direct: bool) -> FastAPI:
    app = create_app(
        DatabaseSettings(database_url=database_url),
        key_cache=KeyCacheSettings(ttl_s=0),
        territory_cache=TerritoryCacheSettings(max_mb=0),
    )
    app.state.public_limiter = SlidingWindow(10**6, 60)
    app.state.auth_failure_limiter = SlidingWindow(10**6, 60)
    if not direct:
        app.router.routes[:] = [r for r in app.router.routes if not isinstance(r, DirectRoute)]
    return app


@pytest.fixture(scope="module")
def pair(database_url: str, engine: Engine) -> Iterator[tuple[TestClient, TestClient]]:
    """The real app (no test override) with and without its direct routes."""
    with (
        TestClient(_app(database_url, True), raise_server_exceptions=False) as direct,
        TestClient(_app(database_url, False), raise_server_exceptions=False) as plain,
    ):
        yield direct, plain


def _comparable(response: Any) -> tuple[int, str, Any, dict[str, str]]:
    headers = {
        k: v
        for k, v in response.headers.items()
        if k in {"content-type", "etag", "cache-control", "vary", "allow", "retry-after"}
        or k.startswith("vigia-tile")
    }
    body: Any = response.content
    if response.content and response.headers["content-type"].startswith("application/problem"):
        body = {k: v for k, v in response.json().items() if k not in _VOLATILE}
    return response.status_code, response.headers.get("content-type", ""), body, headers


def _tile(z: int) -> str:
    x, y = tile_of(*LANCO_TOWN, z)
    return f"{z}/{x}/{y}"


REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", f"{MICRO}/tiles/WebMercatorQuad/{_tile(12)}", {}),
    ("GET", f"{BARRIOS}/tiles/WebMercatorQuad/{_tile(14)}", {}),
    ("GET", f"{MICRO}/tiles/WebMercatorQuad/abc/0/0", {}),  # not an integer
    ("GET", f"{MICRO}/tiles/WebMercatorQuad/23/0/0", {}),  # zoom out of range
    ("GET", f"{MICRO}/tiles/WebMercatorQuad/3/8/0", {}),  # no such tile
    ("GET", f"{MICRO}/tiles/WebMercatorQuad/{_tile(12)}?datetime=ayer", {}),
    ("GET", f"{MICRO}/tiles/WebMercatorQuad/{_tile(12)}?datetime=a&datetime=b", {}),
    ("GET", f"{MICRO}/tiles/WebMercatorQuad/{_tile(12)}?api_key=vga_x", {}),
    ("GET", f"/ogc/collections/nada/tiles/WebMercatorQuad/{_tile(12)}", {}),
    ("GET", f"/ogc/collections/complaints/tiles/WebMercatorQuad/{_tile(12)}", {}),  # 401
    (
        "GET",
        f"/ogc/collections/complaints/tiles/WebMercatorQuad/{_tile(12)}",
        {"Authorization": "Bearer vga_nohaytalclave"},
    ),
    ("POST", f"{MICRO}/tiles/WebMercatorQuad/{_tile(12)}", {}),  # 405
    ("HEAD", f"{MICRO}/tiles/WebMercatorQuad/{_tile(12)}", {}),
    ("GET", f"{MICRO}/items?limit=3", {}),
    ("GET", f"{MICRO}/items?limit=2&offset=2&bbox=-72.9,-39.5,-72.7,-39.4", {}),
    ("GET", f"{MICRO}/items?limit=0", {}),
    ("GET", f"{MICRO}/items?limit=diez", {}),
    ("GET", f"{MICRO}/items?bbox=1,2,3", {}),
    ("GET", f"{MICRO}/items?limit=1&limit=2", {}),
    ("GET", f"{MICRO}/items?filter=nombre%20%3D", {}),
    ("GET", "/ogc/collections/complaints/items", {"Authorization": "Basic !!"}),
]


@pytest.mark.parametrize(("method", "url", "headers"), REQUESTS)
def test_a_direct_route_answers_as_the_route_it_shadows(
    pair: tuple[TestClient, TestClient], method: str, url: str, headers: dict[str, str]
) -> None:
    direct, plain = pair
    ours = _comparable(direct.request(method, url, headers=headers))
    theirs = _comparable(plain.request(method, url, headers=headers))
    assert ours == theirs


def test_tiles_and_pages_do_not_enter_fastapis_resolution(
    pair: tuple[TestClient, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    direct, plain = pair
    solved: list[str] = []
    real = fastapi.routing.solve_dependencies

    async def spy(*args: Any, **kwargs: Any) -> Any:
        solved.append(kwargs["request"].url.path)
        return await real(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", spy)
    tile = f"{MICRO}/tiles/WebMercatorQuad/{_tile(12)}"
    assert direct.get(tile).status_code == 200
    assert direct.get(f"{MICRO}/items", params={"limit": 1}).status_code == 200
    assert solved == []
    assert direct.get(f"{MICRO}/tiles").status_code == 200  # any other route: FastAPI's
    assert plain.get(tile).status_code == 200
    assert solved == [f"{MICRO}/tiles", tile]


def test_the_openapi_document_still_describes_the_shadowed_routes(
    openapi: dict[str, Any],
) -> None:
    tile = openapi["paths"]["/ogc/collections/{collection_id}/tiles/WebMercatorQuad/{z}/{x}/{y}"]
    assert tile["get"]["operationId"] == "ogcCollectionTile"
    assert {p["name"] for p in tile["get"]["parameters"]} >= {"collection_id", "z", "x", "y"}
    items = openapi["paths"]["/ogc/collections/{collection_id}/items"]["get"]
    assert {p["name"] for p in items["parameters"]} >= {"limit", "offset", "bbox", "datetime"}


def _one_route_app(endpoint: Any) -> FastAPI:
    app = FastAPI()
    app.get("/x", operation_id="x")(endpoint)
    return app


def test_what_a_direct_route_cannot_run_is_refused_when_the_app_is_built() -> None:
    def with_body(payload: dict[str, Any] = Body()) -> None:  # noqa: B008
        return None

    def with_tasks(tasks: BackgroundTasks) -> None:
        return None

    def needs_tasks(tasks: BackgroundTasks) -> int:
        return 1

    def with_nested_tasks(n: int = Depends(needs_tasks)) -> None:  # noqa: B008
        return None

    for endpoint in (with_body, with_tasks, with_nested_tasks):
        with pytest.raises(ValueError, match="usa"):
            serve_directly(_one_route_app(endpoint), "x")
    with pytest.raises(ValueError, match="no existen"):
        serve_directly(_one_route_app(with_tasks), "y")
