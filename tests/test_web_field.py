"""The police field form (/reportar), the offline API docs (/docs, /redoc) and axe-core.

The browser tests drive Debian's /usr/bin/chromium through Playwright against `live_server`
(a separate process that sees committed data only): the module's fixture commits a police
key and deletes it, and every report it made, afterwards. Each browser test checks the
database, not only the page.
"""

from __future__ import annotations

import io
import os
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from app.identity import api_keys
from app.models import ApiKey, ReportPhoto, RiskFactorReport, Role
from app.settings import get_risk_settings
from app.web import field
from tests.browser import (
    axe_violations,
    launch_chromium,
    report_here,
    tap_field_map,
)
from tests.factories.risk import FAR_IN_TOWN, LANCO_TOWN, make_report_body

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}


# --- serving -------------------------------------------------------------------------------


def test_the_form_its_worker_and_manifest_are_served(client: TestClient) -> None:
    page = client.get("/reportar")
    worker = client.get("/reportar-sw.js")
    manifest = client.get("/static/reportar/manifest.webmanifest")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<link rel="manifest" href="/static/reportar/manifest.webmanifest">' in page.text
    assert "leaflet" not in page.text.split("<!--")[0].lower()  # the map is loaded on demand
    assert worker.status_code == 200
    assert "javascript" in worker.headers["content-type"]
    assert worker.headers["cache-control"] == "no-cache"
    body = manifest.json()
    assert body["start_url"] == "/reportar"
    assert body["display"] == "standalone"
    for icon in body["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon["src"]
    sizes = {i["sizes"] for i in body["icons"] if i["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    assert Image.open(field.FIELD_DIR / "icono-512.png").size == (512, 512)


def test_field_config_gives_the_server_limits(client: TestClient) -> None:
    settings = get_risk_settings()

    body = client.get("/api/v1/field-config").json()

    assert body == {
        "photo_max_bytes": settings.photo_max_bytes,
        "photo_max_pixels": settings.photo_max_pixels,
        "photos_per_report": settings.photos_per_report,
        "max_vertices": settings.max_vertices,
    }


def test_redoc_is_served_from_vendored_files_with_its_own_policy(client: TestClient) -> None:
    response = client.get("/redoc")
    policy = response.headers["content-security-policy"]

    assert response.status_code == 200
    assert "/static/vendor/redoc/redoc.standalone.js" in response.text
    assert "/static/redoc.js" in response.text
    assert "script-src 'self';" in policy  # scripts stay same-origin only
    assert "style-src 'self' 'nonce-" in policy  # ReDoc's injected styles, this response's
    assert "unsafe" not in policy
    # every other page keeps the strict style policy
    assert "style-src 'self';" in client.get("/docs").headers["content-security-policy"]


def test_a_favicon_is_served(client: TestClient) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"


# --- headless Chromium ---------------------------------------------------------------------


@dataclass
class Officer:
    key: str
    key_id: int


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture
def officer(engine: Engine, live_server: str) -> Iterator[Officer]:
    """A committed police key; its reports (and it) are deleted afterwards."""
    with Session(engine) as session:
        key, secret = api_keys.create_key(
            session,
            name="Cabo Soto (prueba de terreno)",
            role=Role.POLICE,
            institution="carabineros",
        )
        session.commit()
        key_id = key.id
    yield Officer(key=secret, key_id=key_id)
    with Session(engine) as session:
        session.execute(delete(RiskFactorReport).where(RiskFactorReport.reporter_key_id == key_id))
        session.execute(delete(ApiKey).where(ApiKey.id == key_id))
        session.commit()


def _reports(engine: Engine, officer: Officer) -> list[RiskFactorReport]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(RiskFactorReport)
                .where(RiskFactorReport.reporter_key_id == officer.key_id)
                .order_by(RiskFactorReport.received_at)
            )
        )


def _photos(engine: Engine, report_id: Any) -> list[tuple[str, int, bytes]]:
    with Session(engine) as session:
        rows = session.execute(
            select(ReportPhoto.content_type, ReportPhoto.size_bytes, ReportPhoto.data).where(
                ReportPhoto.report_id == report_id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _context(
    chromium: Any, viewport: dict[str, int], where: tuple[float, float], **options: Any
) -> Any:
    lon, lat = where
    return chromium.new_context(
        viewport=viewport,
        locale="es-CL",
        geolocation={"longitude": lon, "latitude": lat, "accuracy": 12},
        permissions=["geolocation"],
        **options,
    )


def _watch(page: Any) -> list[str]:
    """Console lines the test fails on: CSP refusals and uncaught errors."""
    page.set_default_timeout(20_000)
    seen: list[str] = []
    page.on(
        "console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None
    )
    page.on("pageerror", lambda error: seen.append(f"error: {error}"))
    return seen


def _ready(page: Any) -> None:
    # a function, not an expression: Playwright evals expressions, which the CSP forbids
    page.wait_for_function("() => document.body.dataset.estado === 'listo'")


def _sign_in(page: Any, live_server: str, key: str) -> None:
    page.goto(live_server + "/reportar")
    _ready(page)
    page.fill("#clave", key)
    page.click("#form-clave button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('estado-clave').textContent.includes('Informa')"
    )
    page.wait_for_function("() => document.getElementById('tipo').options.length > 1")


def _pending(page: Any) -> int:
    return int(page.locator("#n-pendientes").inner_text())


def _save_screenshot(page: Any, tmp_path: Path, name: str, *, full: bool = False) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=full)
    keep = os.environ.get("VIGIA_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / name)
    return shot


def _big_photo(tmp_path: Path) -> Path:
    """A 3000 x 2000 JPEG of noise (several MB): the form must shrink it before sending."""
    rng = random.Random(7)
    image = Image.frombytes("RGB", (3000, 2000), rng.randbytes(3000 * 2000 * 3))
    path = tmp_path / "camara.jpg"
    image.save(path, "JPEG", quality=95)
    assert path.stat().st_size > 2_000_000
    return path


def test_an_officer_on_a_phone_submits_a_report_with_a_photo(
    chromium: Any, live_server: str, engine: Engine, officer: Officer, tmp_path: Path
) -> None:
    context = _context(chromium, PHONE, FAR_IN_TOWN)
    page = context.new_page()
    problems = _watch(page)
    _sign_in(page, live_server, officer.key)

    page.select_option("#tipo", "luminaria_apagada")
    page.fill("#attr-luminarias_afectadas", "3")
    page.check("input[name=gravedad][value='4']")
    page.click("#gps")
    page.wait_for_function(
        "() => document.getElementById('estado-ubicacion').textContent.includes('± 12 m')"
    )
    page.fill("#descripcion", "Tres luminarias apagadas frente a la plaza.")
    page.set_input_files("#fotos", str(_big_photo(tmp_path)))
    page.wait_for_selector("#miniaturas li")
    assert "→" in page.locator("#miniaturas").inner_text()  # shown as resized
    _save_screenshot(page, tmp_path, "reportar-390.png", full=True)
    page.click("#enviar")
    page.wait_for_function("() => document.querySelectorAll('#enviados li strong').length === 1")

    reports = _reports(engine, officer)
    assert len(reports) == 1
    report = reports[0]
    assert report.severity == 4
    assert report.attributes == {"luminarias_afectadas": 3}
    assert report.description == "Tres luminarias apagadas frente a la plaza."
    photos = _photos(engine, report.id)
    assert len(photos) == 1
    content_type, size, data = photos[0]
    assert content_type == "image/jpeg"
    assert size < 1_000_000  # shrunk on the phone: the original was several MB
    assert max(Image.open(io.BytesIO(data)).size) == 1600
    assert _pending(page) == 0
    assert "Reportado" in page.locator("#enviados").inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    # installable: Chromium reads the manifest without errors and finds nothing missing but
    # a normal (not incognito) profile, which Playwright's contexts are not
    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getAppManifest")["errors"] == []
    installability = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert {e["errorId"] for e in installability} <= {"in-incognito"}
    context.close()
    assert problems == []


def test_offline_reports_are_sent_once_when_the_connection_returns(
    chromium: Any, live_server: str, engine: Engine, officer: Officer, tmp_path: Path
) -> None:
    context = _context(chromium, PHONE, LANCO_TOWN)
    page = context.new_page()
    problems = _watch(page)
    _sign_in(page, live_server, officer.key)
    # the map is opened with signal (Leaflet is loaded on demand), then the signal goes
    page.select_option("#tipo", "tramo_sin_iluminacion")
    page.click("#abrir-mapa")
    page.wait_for_selector("#mapa-campo[data-listo]")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    context.set_offline(True)

    # a dark stretch drawn as a line: three taps on the map
    tap_field_map(page, [(-72.7760, -39.4515), (-72.7745, -39.4520), (-72.7730, -39.4524)])
    page.click("#enviar")
    page.wait_for_function("() => document.getElementById('n-pendientes').textContent === '1'")
    # and a point from the GPS
    report_here(page, "microbasural", {"volumen": "grande"})
    page.wait_for_function("() => document.getElementById('n-pendientes').textContent === '2'")
    assert "Sin conexión" in page.locator("#conexion").inner_text()
    _save_screenshot(page, tmp_path, "reportar-pendientes-390.png", full=True)
    assert _reports(engine, officer) == []

    context.set_offline(False)
    page.wait_for_function("() => document.getElementById('n-pendientes').textContent === '0'")
    page.wait_for_function("() => document.querySelectorAll('#enviados li strong').length === 2")

    reports = _reports(engine, officer)
    assert len(reports) == 2
    with Session(engine) as session:
        kinds = sorted(
            session.scalar(
                select(func.GeometryType(RiskFactorReport.geom)).where(RiskFactorReport.id == r.id)
            )
            for r in reports
        )
    assert kinds == ["LINESTRING", "POINT"]
    assert {r.attributes.get("volumen") for r in reports} == {None, "grande"}
    # sending again (the page retries by itself too) changes nothing
    page.evaluate("() => window.vigiaCampo.send()")
    assert len(_reports(engine, officer)) == 2
    context.close()
    assert problems == []


def test_a_lost_answer_is_retried_without_a_second_report(
    chromium: Any, live_server: str, engine: Engine, officer: Officer
) -> None:
    """The server creates the report but its answer never reaches the phone (the signal drops
    on the way back): the retry carries the same Idempotency-Key and gets the same report.
    (Service workers blocked: Playwright cannot route requests a worker controls.)"""
    context = _context(chromium, PHONE, LANCO_TOWN, service_workers="block")
    page = context.new_page()
    problems = _watch(page)
    _sign_in(page, live_server, officer.key)
    lost: list[str] = []

    def lose_the_answer(route: Any) -> None:
        if route.request.method == "POST" and not lost:
            route.fetch()  # the server does the work...
            lost.append(route.request.headers["idempotency-key"])
            route.abort("internetdisconnected")  # ...and the phone never hears back
        else:
            route.fallback()

    page.route("**/api/v1/risk-factors", lose_the_answer)
    page.select_option("#tipo", "sitio_eriazo")
    page.click("#gps")
    page.wait_for_function("() => window.vigiaCampo.state.vertices.length === 1")
    page.click("#enviar")
    page.wait_for_function(
        "() => document.getElementById('pendientes').textContent.includes('intentos: 1')"
    )
    assert len(_reports(engine, officer)) == 1  # created, though the phone does not know
    assert _pending(page) == 1

    page.click("#reintentar")
    page.wait_for_function("() => document.getElementById('n-pendientes').textContent === '0'")

    reports = _reports(engine, officer)
    assert len(reports) == 1
    assert str(reports[0].id) == lost[0]  # the device's UUID is the report's id and its key
    context.close()
    assert problems == []


def _only_this_server(context: Any, live_server: str) -> list[str]:
    """Abort every request to another host (as on a network with no internet)."""
    refused: list[str] = []

    def gate(route: Any) -> None:
        if route.request.url.startswith((live_server, "data:", "blob:")):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", gate)
    return refused


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["escritorio", "390"])
def test_api_docs_render_without_internet(
    chromium: Any, live_server: str, viewport: dict[str, int], tmp_path: Path
) -> None:
    context = chromium.new_context(viewport=viewport, locale="es-CL")
    refused = _only_this_server(context, live_server)
    page = context.new_page()
    problems = _watch(page)
    page.set_default_timeout(60_000)  # Swagger UI and ReDoc render ~100 operations
    size = "390" if viewport is PHONE else "escritorio"

    page.goto(live_server + "/docs")
    page.wait_for_selector(".opblock-summary", state="attached")
    assert page.locator(".opblock").count() > 50
    assert "Vigía" in page.locator(".info .title").inner_text()
    _save_screenshot(page, tmp_path, f"docs-{size}.png")
    assert problems == []

    page.goto(live_server + "/redoc")
    page.wait_for_selector("[data-section-id^='operation/']", state="attached")
    assert page.locator("[data-section-id^='operation/']").count() > 50
    assert (
        page.get_by_text("submitRiskFactor", exact=False).count()
        + page.locator("[data-section-id='operation/submitRiskFactor']").count()
        > 0
    )
    _save_screenshot(page, tmp_path, f"redoc-{size}.png")

    context.close()
    assert refused == []
    # ReDoc sets a few style attributes the policy refuses (nothing it needs) and links
    # Redocly's logo from its CDN (refused too); no script is ever refused
    assert [p for p in problems if "script" in p.lower()] == []


@pytest.mark.parametrize("path", ["/reportar", "/", "/docs", "/redoc"])
def test_pages_have_no_serious_accessibility_violations(
    chromium: Any, live_server: str, officer: Officer, path: str
) -> None:
    context = _context(chromium, PHONE if path == "/reportar" else DESKTOP, LANCO_TOWN)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(live_server + path)
    if path in ("/", "/reportar"):
        _ready(page)
    elif path == "/docs":
        page.wait_for_selector(".opblock-summary")
    else:
        page.wait_for_selector("[data-section-id^='operation/']", state="attached")
    if path == "/reportar":  # the form as an officer fills it: attributes and the map open
        page.fill("#clave", officer.key)
        page.click("#form-clave button[type=submit]")
        page.wait_for_function("() => document.getElementById('tipo').options.length > 1")
        page.select_option("#tipo", "microbasural")
        page.click("#abrir-mapa")
        page.wait_for_selector("#mapa-campo[data-listo]")

    violations = axe_violations(page)

    context.close()
    assert violations == []


def test_a_refused_report_says_why_and_does_not_hold_back_the_next(
    chromium: Any, live_server: str, engine: Engine, officer: Officer
) -> None:
    """The server's problem+json, as a sentence naming the field; the next report still goes."""
    context = _context(chromium, PHONE, FAR_IN_TOWN)
    page = context.new_page()
    problems = _watch(page)
    _sign_in(page, live_server, officer.key)

    page.select_option("#tipo", "luminaria_apagada")
    page.fill("#attr-luminarias_afectadas", "500")  # the catalogue allows 1 to 100
    page.click("#gps")
    page.wait_for_function("() => window.vigiaCampo.state.vertices.length === 1")
    page.click("#enviar")
    page.wait_for_selector("#pendientes li.rechazado")
    refused = page.locator("#pendientes li.rechazado").inner_text()
    assert "Rechazado" in refused
    assert "luminarias_afectadas" in refused
    assert "100" in refused

    report_here(page, "microbasural", {"volumen": "grande"})
    page.wait_for_function("() => document.querySelectorAll('#enviados li strong').length === 1")
    assert [r.attributes for r in _reports(engine, officer)] == [{"volumen": "grande"}]
    assert _pending(page) == 1  # the refused one stays, with its reason, until discarded

    page.click("#pendientes li.rechazado button")
    page.wait_for_function("() => document.getElementById('n-pendientes').textContent === '0'")
    context.close()
    assert problems == []


def test_a_lost_photo_answer_does_not_store_the_photo_twice(
    chromium: Any, live_server: str, engine: Engine, officer: Officer, tmp_path: Path
) -> None:
    """The photo reaches the server but its answer does not reach the phone: on the retry the
    form asks the report how many photos it has, and does not upload that one again."""
    context = _context(chromium, PHONE, LANCO_TOWN, service_workers="block")
    page = context.new_page()
    problems = _watch(page)
    _sign_in(page, live_server, officer.key)
    lost: list[str] = []

    def lose_the_answer(route: Any) -> None:
        if route.request.method == "POST" and not lost:
            route.fetch()
            lost.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.fallback()

    page.route("**/api/v1/risk-factors/*/photos", lose_the_answer)
    photo = tmp_path / "foto.png"
    Image.new("RGB", (40, 30), (200, 120, 40)).save(photo)
    page.select_option("#tipo", "sitio_eriazo")
    page.click("#gps")
    page.wait_for_function("() => window.vigiaCampo.state.vertices.length === 1")
    page.set_input_files("#fotos", str(photo))
    page.wait_for_selector("#miniaturas li")
    page.click("#enviar")
    page.wait_for_function(
        "() => document.getElementById('pendientes').textContent.includes('faltan fotos')"
    )
    [report] = _reports(engine, officer)
    assert len(_photos(engine, report.id)) == 1  # stored, though the phone does not know

    page.click("#reintentar")
    page.wait_for_function("() => document.getElementById('n-pendientes').textContent === '0'")

    assert len(_reports(engine, officer)) == 1
    assert len(_photos(engine, report.id)) == 1
    assert len(lost) == 1
    context.close()
    assert problems == []


def test_recent_reports_are_the_officers_own_from_any_phone_and_this_phones_offline(
    chromium: Any, live_server: str, engine: Engine, officer: Officer, tmp_path: Path
) -> None:
    """Online, "Mis informes recientes" is the key's own list from the API (a report sent
    from another phone with the same key shows; a colleague's never does); offline, it is
    what this phone sent."""
    import httpx

    with Session(engine) as session:
        colleague, colleague_secret = api_keys.create_key(
            session, name="Cabo Rojas (prueba)", role=Role.POLICE, institution="carabineros"
        )
        session.commit()
        colleague_id = colleague.id
    try:
        body = make_report_body(type="microbasural", attributes={"volumen": "grande"})
        other_phone = httpx.post(
            live_server + "/api/v1/risk-factors",
            json=body,
            headers={"Authorization": f"Bearer {officer.key}", "Idempotency-Key": "otro-fono-1"},
        )
        assert other_phone.status_code == 201, other_phone.text
        not_mine = httpx.post(
            live_server + "/api/v1/risk-factors",
            json=make_report_body(),
            headers={
                "Authorization": f"Bearer {colleague_secret}",
                "Idempotency-Key": "rojas-0001",
            },
        )
        assert not_mine.status_code == 201, not_mine.text

        context = _context(chromium, PHONE, LANCO_TOWN)
        page = context.new_page()
        problems = _watch(page)
        _sign_in(page, live_server, officer.key)
        page.wait_for_function(
            "() => document.getElementById('enviados').dataset.origen === 'servidor'"
            " && document.querySelectorAll('#enviados li strong').length === 1"
        )
        assert "Microbasural" in page.locator("#enviados").inner_text()
        assert "otro teléfono" in page.locator("#origen-recientes").inner_text()

        report_here(page, "inmueble_abandonado", {})
        page.wait_for_function(
            "() => document.querySelectorAll('#enviados li strong').length === 2"
        )
        listed = page.locator("#enviados").inner_text()
        assert listed.index("Inmueble abandonado") < listed.index("Microbasural")  # newest first
        _save_screenshot(page, tmp_path, "reportar-recientes-390.png", full=True)

        context.set_offline(True)
        page.evaluate("() => window.vigiaCampo.send()")
        page.wait_for_function(
            "() => document.getElementById('enviados').dataset.origen === 'telefono'"
        )
        assert page.locator("#enviados li strong").count() == 1  # sent from this phone
        assert "Inmueble abandonado" in page.locator("#enviados").inner_text()
        assert "Sin conexión" in page.locator("#origen-recientes").inner_text()
        context.close()
        assert problems == []
        assert len(_reports(engine, officer)) == 2
    finally:
        with Session(engine) as session:
            session.execute(
                delete(RiskFactorReport).where(RiskFactorReport.reporter_key_id == colleague_id)
            )
            session.execute(delete(ApiKey).where(ApiKey.id == colleague_id))
            session.commit()
