"""A MapLibre GL page on ANOTHER origin draws Vigía's tiles: public ones always, keyed ones
only when its origin is in VIGIA_CORS_ORIGINS (Debian's chromium through Playwright).

Vigía runs in its own process with one page origin allow-listed; the same page is served
from two more ports (the allow-listed one and a stranger), as a municipality's site and a
third party's would be. The data (complaints, a key) is committed here and deleted after.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from app.complaints.ingest import import_complaints
from app.identity import api_keys
from app.models import ApiKey, Complaint, Role
from app.web.map import STATIC_DIR
from tests.browser import launch_chromium
from tests.conftest import REPO

PAGE = Path(__file__).parent / "fixtures" / "cors_page"
VENDOR = STATIC_DIR / "vendor" / "maplibre-gl"
REF = "CORSMAP-"
LANCO = (-72.778, -39.451)
SCREENSHOTS = os.environ.get("VIGIA_SCREENSHOTS")  # a folder: keep the pictures


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PageHandler(SimpleHTTPRequestHandler):
    """The third-party page, and MapLibre from its own origin (as such a site would)."""

    def translate_path(self, path: str) -> str:
        if path.startswith("/vendor/maplibre-gl/"):
            return str(VENDOR / path.rsplit("/", 1)[1])
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def origins() -> Iterator[tuple[str, str]]:
    """Two origins serving the same page: (allow-listed, stranger)."""
    servers = []
    for _ in range(2):
        handler = functools.partial(PageHandler, directory=str(PAGE))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield tuple(f"http://127.0.0.1:{s.server_address[1]}" for s in servers)  # type: ignore[misc]
    for server in servers:
        server.shutdown()


@pytest.fixture(scope="module")
def vigia(engine: Engine, database_url: str, origins: tuple[str, str]) -> Iterator[str]:
    """Vigía with only the first origin allow-listed."""
    port = free_port()
    env = {**os.environ, "VIGIA_DATABASE_URL": database_url, "VIGIA_CORS_ORIGINS": origins[0]}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
        + ["--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
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
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def planner_key(engine: Engine) -> Iterator[str]:
    now = datetime.now(UTC)
    with Session(engine) as session:
        key, secret = api_keys.create_key(
            session, name="Prueba CORS", role=Role.PLANNER, institution="municipalidad"
        )
        import_complaints(
            session,
            [
                {
                    "external_ref": f"{REF}{i}",
                    "source": "carabineros",
                    "category": "556",
                    "occurred_at": (now - timedelta(days=i + 1)).isoformat(),
                    "lon": LANCO[0] + 0.0004 * (i % 5),
                    "lat": LANCO[1] - 0.0004 * (i // 5),
                    "precision": "exact",
                }
                for i in range(20)
            ],
            loaded_by="pruebas CORS",
        )
        session.commit()
        key_id = key.id
    yield secret
    with Session(engine) as session:
        session.execute(delete(Complaint).where(Complaint.external_ref.startswith(REF)))
        session.execute(delete(ApiKey).where(ApiKey.id == key_id))
        session.commit()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


def draw(chromium: Any, page_origin: str, vigia: str, key: str | None) -> dict[str, Any]:
    """Open the page on `page_origin`, draw barrios (public) and complaints (keyed)."""
    context = chromium.new_context(viewport={"width": 900, "height": 700}, locale="es-CL")
    page = context.new_page()
    page.set_default_timeout(20_000)
    vigia_requests: list[str] = []
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.on("pageerror", lambda e: console.append(str(e)))
    page.on("request", lambda r: vigia_requests.append(r.url) if r.url.startswith(vigia) else None)
    try:
        page.goto(page_origin + "/index.html")
        page.wait_for_function("() => typeof window.dibujar === 'function'")
        config = {
            "vigia": vigia,
            "clave": key,
            "publica": "barrios",
            "conClave": "complaints",
            "centro": list(LANCO),
            "zoom": 15,
        }
        page.evaluate("(config) => window.dibujar(config)", config)
        try:
            page.wait_for_function("() => window.estado && window.estado().listo")
            page.wait_for_timeout(500)  # the tiles drawn: their features are queryable
        except Exception as exc:
            raise AssertionError(f"el mapa no terminó: {console}") from exc
        result: dict[str, Any] = page.evaluate("() => window.estado()")
        if SCREENSHOTS:
            name = f"cors-{'clave' if key else 'publico'}-{result['conClave']}.png"
            page.screenshot(path=f"{SCREENSHOTS}/{name}")
        result["requested"] = vigia_requests
        return result
    finally:
        context.close()


def test_a_page_on_any_origin_draws_the_public_tiles(
    chromium: Any, vigia: str, origins: tuple[str, str], planner_key: str
) -> None:
    stranger = origins[1]
    result = draw(chromium, stranger, vigia, None)
    assert result["publica"] > 0, result
    assert result["conClave"] == 0
    # without a key the keyed tiles are 401s the page may read (no CORS error hides them)
    assert any("/collections/barrios/tiles/" in u for u in result["requested"])


def test_an_allow_listed_origin_draws_the_keyed_tiles_with_its_key(
    chromium: Any, vigia: str, origins: tuple[str, str], planner_key: str
) -> None:
    result = draw(chromium, origins[0], vigia, planner_key)
    assert result["publica"] > 0, result
    assert result["conClave"] > 0, result
    assert result["errores"] == []


def test_a_stranger_origin_with_a_key_gets_no_keyed_tiles(
    chromium: Any, vigia: str, origins: tuple[str, str], planner_key: str
) -> None:
    result = draw(chromium, origins[1], vigia, planner_key)
    assert result["publica"] > 0, result
    assert result["conClave"] == 0, result
    assert result["errores"], "MapLibre debió informar las teselas bloqueadas"
