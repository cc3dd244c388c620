"""The planners' web map at `/`: how it is served, and a headless Chromium run against it.

The browser tests drive Debian's /usr/bin/chromium through Playwright (no browser download)
against `live_server`, which only sees committed data: the module's fixture commits a few
complaints, a risk factor and two keys, and deletes them afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from app import rankings
from app.complaints.ingest import import_complaints
from app.identity import api_keys
from app.models import ApiKey, Barrio, Complaint, Comuna, RiskFactorReport, Role
from app.models.ranking import RankingSnapshot, RankingUnitResult
from app.settings import BasemapSettings, get_basemap_settings
from app.web import map as web_map
from tests.browser import chromium_browser
from tests.factories.risk import FAR_IN_TOWN, make_point, make_report_body

STATIC = web_map.STATIC_DIR
COMPLAINT_SOURCE_REF = "WEBMAP-"
COMPLAINTS = 40
COMPLAINT_TILES = "/ogc/collections/complaints/tiles/WebMercatorQuad/"


# --- serving the page ----------------------------------------------------------------------


def test_the_map_is_served_at_the_root_with_its_vendored_libraries(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in web_map.VENDOR_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("/* vendored */")
    monkeypatch.setattr(web_map, "VENDOR_DIR", tmp_path)

    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="es">' in response.text
    assert "Mapa de seguridad comunal" in response.text
    for name in web_map.VENDOR_FILES:
        assert f"/static/vendor/{name}" in response.text


def test_without_the_libraries_the_root_says_how_to_install_them(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_map, "VENDOR_DIR", tmp_path / "no-existe")

    response = client.get("/")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "El mapa todavía no está instalado" in response.text
    assert "scripts/bootstrap.sh" in response.text
    assert "leaflet/leaflet.js" in response.text


def test_page_script_and_style_are_served_as_static_files(client: TestClient) -> None:
    script = client.get("/static/mapa.js")
    style = client.get("/static/mapa.css")

    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")


def test_nothing_on_the_page_comes_from_another_host() -> None:
    """The map must work with no internet: no CDN, no remote fonts, no default basemap."""
    remote = re.compile(r"""(src|href)\s*=\s*["'](https?:)?//|url\(\s*["']?(https?:)?//|@import""")
    for name in ("index.html", "mapa.js", "mapa.css"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not remote.search(text), name
        assert "tile.openstreetmap" not in text, name


def test_map_config_has_no_basemap_by_default(client: TestClient) -> None:
    body = client.get("/api/v1/map-config").json()

    assert body["basemap"] is None
    assert body["variables"]["dmcs_rate"]["label"] == "Tasa DMCS suavizada"


def test_map_config_passes_the_configured_basemap(app: Any, client: TestClient) -> None:
    def configured() -> BasemapSettings:
        return BasemapSettings(
            url="https://teselas.lanco.cl/{z}/{x}/{y}.png", attribution="Municipalidad"
        )

    app.dependency_overrides[get_basemap_settings] = configured

    body = client.get("/api/v1/map-config").json()

    assert body["basemap"] == {
        "url": "https://teselas.lanco.cl/{z}/{x}/{y}.png",
        "attribution": "Municipalidad",
        "max_zoom": 19,
    }


@pytest.mark.parametrize(
    "url", ["ftp://x/{z}/{x}/{y}", "https://teselas.lanco.cl/{z}/{x}.png", "teselas/{z}/{x}/{y}"]
)
def test_a_basemap_url_must_be_an_xyz_template(url: str) -> None:
    with pytest.raises(ValueError, match="url"):
        BasemapSettings(url=url)


# --- headless Chromium ---------------------------------------------------------------------


@dataclass
class MapData:
    planner_key: str
    police_key: str
    report_id: str
    barrio_code: str
    barrio_name: str
    barrio_point: tuple[float, float]
    barrios: int


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with chromium_browser() as browser:
        yield browser


@pytest.fixture(scope="module")
def map_data(engine: Engine, live_server: str) -> Iterator[MapData]:
    """Committed keys, complaints and one risk factor (the live server sees only those)."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        planner, planner_secret = api_keys.create_key(
            session,
            name="Prueba mapa (planificación)",
            role=Role.PLANNER,
            institution="municipalidad",
        )
        police, police_secret = api_keys.create_key(
            session, name="Prueba mapa (policía)", role=Role.POLICE, institution="carabineros"
        )
        import_complaints(
            session,
            [
                {
                    "external_ref": f"{COMPLAINT_SOURCE_REF}{i}",
                    "source": "carabineros",
                    "category": "556",
                    "occurred_at": (now - timedelta(days=i + 1)).isoformat(),
                    "lon": -72.778 + 0.0002 * (i % 10),
                    "lat": -39.451 - 0.0002 * (i // 10),
                    "precision": "exact",
                }
                for i in range(COMPLAINTS)
            ],
            loaded_by="pruebas del mapa",
        )
        rural = session.execute(
            select(Barrio.code, Barrio.name, func.ST_AsGeoJSON(func.ST_PointOnSurface(Barrio.geom)))
            .order_by(func.ST_Area(Barrio.geom).desc())
            .limit(1)
        ).one()
        barrios = session.scalar(select(func.count()).select_from(Barrio)) or 0
        session.commit()
        snapshot = rankings.compute_snapshot(
            session,
            level="barrio",
            comuna=None,
            period_end=None,
            months=12,
            profile_name=None,
            profile_version=None,
            computed_by="pruebas del mapa",
        )
        session.commit()
        snapshot_id = snapshot.id
        key_ids = [planner.id, police.id]
    created = httpx.post(
        live_server + "/api/v1/risk-factors",
        json=make_report_body(geometry=make_point(*FAR_IN_TOWN)),
        headers={"Authorization": f"Bearer {police_secret}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    lon, lat = orjson.loads(rural[2])["coordinates"]
    report_id = uuid.UUID(created.json()["id"])
    try:
        yield MapData(
            planner_key=planner_secret,
            police_key=police_secret,
            report_id=str(report_id),
            barrio_code=rural[0],
            barrio_name=rural[1],
            barrio_point=(lon, lat),
            barrios=barrios,
        )
    finally:
        with Session(engine) as session:
            session.execute(delete(RiskFactorReport).where(RiskFactorReport.id == report_id))
            session.execute(
                delete(Complaint).where(Complaint.external_ref.startswith(COMPLAINT_SOURCE_REF))
            )
            session.execute(delete(ApiKey).where(ApiKey.id.in_(key_ids)))
            session.execute(
                delete(RankingUnitResult).where(RankingUnitResult.snapshot_id == snapshot_id)
            )
            session.execute(delete(RankingSnapshot).where(RankingSnapshot.id == snapshot_id))
            session.commit()


@pytest.fixture
def page(chromium: Any, live_server: str) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="es-CL")
    page = context.new_page()
    page.set_default_timeout(20_000)
    # the pages run under a strict CSP (app/api/security_headers.py): Chromium reports any
    # inline script, style or foreign load it blocked on the console
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    yield page
    context.close()
    blocked = [text for text in console if "Content Security Policy" in text]
    assert blocked == [], blocked


def _wait_until_loaded(page: Any) -> None:
    # a function, not an expression: Playwright evals expressions, which the CSP forbids
    page.wait_for_function("() => document.body.dataset.estado === 'listo'")


def _save_screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    keep = os.environ.get("VIGIA_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / name)
    return shot


def _click_on_map(page: Any, lon: float, lat: float) -> None:
    """A real mouse click where (lon, lat) is drawn (on a phone the controls sit below the
    map, so using them scrolls it away: bring it back first, as a person would)."""
    page.evaluate("() => document.getElementById('mapa').scrollIntoView({block: 'start'})")
    # the first view is the town: bring the place into view first (the rural barrio's
    # inner point lies outside it)
    page.evaluate(
        "([lat, lon]) => window.vigia.map.panTo([lat, lon], {animate: false})", [lat, lon]
    )
    x, y = page.evaluate(
        "([lat, lon]) => { const p = window.vigia.map.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lat, lon],
    )
    box = page.locator("#mapa").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_browser_draws_layers_legend_and_opens_panels(
    page: Any, live_server: str, map_data: MapData, tmp_path: Path
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server + "/")
    _wait_until_loaded(page)

    # public view: barrio polygons drawn as SVG paths, the legend, no complaints
    assert page.locator("path.unidad").count() == map_data.barrios
    legend = page.locator("#leyenda").inner_text()
    for label in ("Crítico", "Alto", "Medio", "Bajo", "Sin dato", "Reportado", "En gestión"):
        assert label in legend
    assert "100 o más denuncias" in legend
    assert "Sin clave" in page.locator("#estado-acceso").inner_text()
    assert page.locator("#mapa").get_attribute("data-denuncias") == "0"

    # a planner's key adds the complaints (counted per cell in the tiles) and the exact
    # risk factors
    page.fill("#clave", map_data.planner_key)
    page.click("#entrar")
    page.wait_for_function(
        "() => document.body.dataset.estado === 'listo' && "
        f"document.getElementById('mapa').dataset.denuncias === '{COMPLAINTS}'"
    )
    assert "Prueba mapa (planificación)" in page.locator("#estado-acceso").inner_text()
    # the first view is the town, at or past the aggregation zoom: cells or single points
    assert _drawn(page, "puntos") + _drawn(page, "celdas") >= 1
    assert page.locator("#mapa .teselas-denuncias canvas").count() >= 1
    assert page.locator("path.factor").count() == 1

    # clicking a barrio opens its panel
    page.uncheck("#ver-denuncias")
    _click_on_map(page, *map_data.barrio_point)
    panel = page.locator("#panel")
    panel.wait_for(state="visible")
    assert page.locator("#panel-contenido").get_attribute("data-tipo") == "unidad"
    assert page.locator("#panel-contenido h2").inner_text() == map_data.barrio_name
    assert map_data.barrio_code in panel.inner_text()
    _save_screenshot(page, tmp_path, "mapa-barrio.png")

    # clicking the risk factor shows its details and timeline
    lon, lat = FAR_IN_TOWN  # back to the factor, in town
    page.evaluate(
        "([lat, lon]) => window.vigia.map.panTo([lat, lon], {animate: false})", [lat, lon]
    )
    page.locator("path.factor").click()
    page.wait_for_selector("#panel-contenido[data-tipo='factor'] .linea-tiempo li")
    assert "Luminaria" in page.locator("#panel-contenido h2").inner_text()
    assert "Reportado" in page.locator(".linea-tiempo").inner_text()
    shot = _save_screenshot(page, tmp_path, "mapa-factor.png")
    assert shot.stat().st_size > 10_000

    # nothing was fetched from another host
    foreign = [u for u in requested if not u.startswith((live_server, "data:"))]
    assert foreign == []


def _complaint_requests(requested: list[str]) -> tuple[list[str], list[str]]:
    tiles = [u for u in requested if COMPLAINT_TILES in u]
    listed = [u for u in requested if "/api/v1/complaints?" in u]
    return tiles, listed


def _drawn(page: Any, what: str = "denuncias") -> int:
    """Complaints counted in the loaded tiles of the current zoom, or (`puntos`, `celdas`)
    the points and cells drawn on their canvases."""
    return int(page.locator("#mapa").get_attribute(f"data-{what}"))


@pytest.mark.parametrize("role", ["planner", "police"])
def test_browser_draws_complaints_from_the_vector_tiles(
    page: Any, live_server: str, map_data: MapData, role: str
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    key = map_data.planner_key if role == "planner" else map_data.police_key
    page.goto(live_server + "/")
    page.evaluate("key => sessionStorage.setItem('vigia.clave', key)", key)
    page.reload()
    _wait_until_loaded(page)

    # "listo" means the first view is drawn: the complaints of every tile are already there
    assert _drawn(page) == COMPLAINTS
    assert _drawn(page, "puntos") + _drawn(page, "celdas") >= 1
    # zoomed out, below the aggregation zoom, the tiles carry counts per cell
    page.evaluate("() => window.vigia.map.setZoom(11, {animate: false})")
    page.wait_for_function("() => Number(document.getElementById('mapa').dataset.celdas) > 0")
    assert _drawn(page, "puntos") == 0
    assert all(c["cell"] for c in page.evaluate("() => window.vigia.drawnComplaints()"))
    tiles, listed = _complaint_requests(requested)
    assert tiles
    assert listed == []

    # zoomed in past the aggregation zoom the tiles carry the points themselves
    requested.clear()
    page.evaluate("() => window.vigia.map.setView([-39.4515, -72.777], 17, {animate: false})")
    points = f"() => document.getElementById('mapa').dataset.puntos === '{COMPLAINTS}'"
    page.wait_for_function(points)
    assert _drawn(page, "celdas") == 0
    assert _complaint_requests(requested)[0]
    # a click on a drawn point opens that complaint (the canvas takes no pointer events:
    # the map finds the point under the click)
    point = page.evaluate("() => window.vigia.drawnComplaints()")[0]
    assert not point["cell"]
    box = page.locator("#mapa").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector("#panel-contenido[data-tipo='denuncia']")
    assert "Ocurrió" in page.locator("#panel").inner_text()


@pytest.mark.parametrize("viewport", [(1400, 900), (390, 844)])
def test_the_first_view_is_requested_before_the_maps_code_runs(
    page: Any, live_server: str, map_data: MapData, viewport: tuple[int, int]
) -> None:
    """map-config comes inside the page, and mapa-inicio.js sends the first view's requests
    (complaint tiles included) before Leaflet is evaluated: the page then uses each of those
    answers, and asks nothing twice."""
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.context.add_init_script(f"sessionStorage.setItem('vigia.clave', '{map_data.planner_key}')")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server + "/")
    _wait_until_loaded(page)
    assert _drawn(page) == COMPLAINTS

    early = page.evaluate("() => window.vigiaInicio.early")
    taken = page.evaluate("() => window.vigiaInicio.taken")
    assert not any("/map-config" in u for u in requested)
    assert sorted(early) == sorted(taken)  # every early answer was the one the page used
    for wanted in ("/api/v1/me", "/api/v1/barrios?", "/api/v1/rankings/latest?", COMPLAINT_TILES):
        assert any(wanted in u for u in early), wanted
    first_tiles = [u for u in requested if COMPLAINT_TILES in u]
    assert first_tiles
    assert len(first_tiles) == len(set(first_tiles))
    api = [u for u in requested if "/api/v1/" in u]
    assert len(api) == len(set(api))


def test_with_complaints_drawn_a_click_beside_them_reaches_the_unit(
    page: Any, live_server: str, map_data: MapData
) -> None:
    """The complaint canvases cover the map but take no clicks: a barrio under them opens."""
    page.goto(live_server + "/")
    page.evaluate("key => sessionStorage.setItem('vigia.clave', key)", map_data.planner_key)
    page.reload()
    _wait_until_loaded(page)
    assert page.locator("#mapa .teselas-denuncias canvas").count() >= 1
    _click_on_map(page, *map_data.barrio_point)
    page.locator("#panel").wait_for(state="visible")
    assert page.locator("#panel-contenido").get_attribute("data-tipo") == "unidad"
    assert page.locator("#panel-contenido h2").inner_text() == map_data.barrio_name


def test_the_page_carries_the_map_config(client: TestClient) -> None:
    page = client.get("/").text
    written = re.search(r'<script type="application/json" id="mapa-config">(.*?)</script>', page)
    assert written
    assert orjson.loads(written.group(1)) == client.get("/api/v1/map-config").json()
    assert client.get("/").headers["cache-control"] == "no-cache"


def test_the_written_config_cannot_end_its_script_element() -> None:
    name = "</script><script>alert(1)</script><!--"
    config = web_map.MapConfigRead(basemap=None, variables={}, comunas=[])
    config.variables["x"] = web_map.VariableRead(label=name, unit="", description="", plain="")
    page = web_map.map_page_html(config)
    body = page.split('id="mapa-config">', 1)[1].split("</script>", 1)[0]
    assert "<" not in body
    assert orjson.loads(body)["variables"]["x"]["label"] == name


def test_the_filters_go_to_the_complaint_tiles(
    page: Any, live_server: str, map_data: MapData
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server + "/")
    page.evaluate("key => sessionStorage.setItem('vigia.clave', key)", map_data.planner_key)
    page.reload()
    _wait_until_loaded(page)
    assert _drawn(page) == COMPLAINTS

    def apply() -> None:
        requested.clear()
        page.evaluate("() => { document.body.dataset.estado = 'cargando'; }")
        page.click("#form-filtros button[type=submit]")
        _wait_until_loaded(page)

    other = page.eval_on_selector(
        "#categoria", "s => [...s.options].map(o => o.value).find(v => v && v !== '556')"
    )
    page.select_option("#categoria", other)
    apply()
    assert _drawn(page) == 0
    assert all(f"category={other}" in u for u in _complaint_requests(requested)[0])

    page.select_option("#categoria", "556")
    apply()
    assert _drawn(page) == COMPLAINTS

    page.fill("#desde", "2020-01")
    page.fill("#hasta", "2020-12")  # long before the test complaints
    apply()
    assert _drawn(page) == 0
    tiles = _complaint_requests(requested)[0]
    assert tiles
    assert all("datetime=2020-01-01T00%3A00%3A00-03%3A00%2F" in u for u in tiles)
    comuna = page.get_attribute("#mapa", "data-comuna")
    assert comuna
    assert all(f"comuna={comuna}" in u for u in tiles)  # cells of the comuna on view only


def test_without_a_key_no_complaint_is_requested(
    page: Any, live_server: str, map_data: MapData
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server + "/")
    _wait_until_loaded(page)

    assert _drawn(page) == 0
    assert _complaint_requests(requested) == ([], [])
    assert page.locator("path.unidad").count() == map_data.barrios


def test_browser_shows_the_ranking_breakdown_of_a_unit(
    page: Any, live_server: str, map_data: MapData, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {map_data.planner_key}"}
    ranking = httpx.get(
        live_server + "/api/v1/rankings/latest", params={"level": "barrio"}, headers=headers
    )
    assert ranking.status_code == 200, ranking.text
    ranked = {unit["code"]: unit for unit in ranking.json()["units"]}
    assert map_data.barrio_code in ranked

    page.goto(live_server + "/")
    page.evaluate("key => sessionStorage.setItem('vigia.clave', key)", map_data.planner_key)
    page.reload()
    _wait_until_loaded(page)
    page.uncheck("#ver-denuncias")
    _click_on_map(page, *map_data.barrio_point)
    page.wait_for_selector("#panel-contenido[data-tipo='unidad'] .barras li")

    unit = ranked[map_data.barrio_code]
    text = page.locator("#panel").inner_text()
    assert unit["class"].lower() in text.lower()
    assert f"{unit['rank']} de {len(ranked)}" in text
    assert page.locator(".barras li").count() == len(unit["contributions"])
    _save_screenshot(page, tmp_path, "mapa-ranking.png")


@pytest.mark.parametrize("width", [1400, 390])
def test_browser_breakdown_says_the_rank_interval_class_stability_and_signal(
    page: Any, live_server: str, map_data: MapData, tmp_path: Path, width: int
) -> None:
    """Method 2 in the panel, in the API's words: "lugar 4 de 5, entre 2 y 5", the class with
    how often resampling keeps it, the weight without signal, each variable's sentence."""
    headers = {"Authorization": f"Bearer {map_data.planner_key}"}
    ranking = httpx.get(
        live_server + "/api/v1/rankings/latest", params={"level": "barrio"}, headers=headers
    ).json()
    unit = next(u for u in ranking["units"] if u["code"] == map_data.barrio_code)
    assert unit["uncertainty"] is not None  # the default profile is method 2
    plain = httpx.get(live_server + "/api/v1/map-config").json()["variables"]

    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server + "/")
    page.evaluate("key => sessionStorage.setItem('vigia.clave', key)", map_data.planner_key)
    page.reload()
    _wait_until_loaded(page)
    page.uncheck("#ver-denuncias")
    _click_on_map(page, *map_data.barrio_point)
    page.wait_for_selector("#panel-contenido[data-tipo='unidad'] .barras li")

    text = page.locator("#panel").inner_text()
    assert unit["uncertainty"]["summary"] in text  # "lugar 3 de 5, entre 1 y 5"
    assert re.search(r"lugar \d+ de \d+", unit["uncertainty"]["summary"])
    assert unit["uncertainty"]["class_summary"] in text
    assert ranking["method"]["signal_summary"] in page.locator("#panel .senal").inner_text()
    for name in unit["contributions"]:
        assert plain[name]["plain"]
        assert plain[name]["plain"] in text, name
    assert "log-razón" not in text
    # unstable classes are marked on the map and in the legend
    assert "Clase inestable" in page.locator("#leyenda").inner_text()
    unstable = sum(1 for u in ranking["units"] if not u["uncertainty"]["class_stable"])
    assert page.locator("path.unidad[stroke-dasharray]").count() == unstable
    # the panel fits the window (no horizontal scrolling on a phone)
    box = page.locator("#panel").bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= width + 0.5
    _save_screenshot(page, tmp_path, f"mapa-ranking-{width}.png")


def test_browser_renders_docs_and_statistics_under_the_csp(
    page: Any, live_server: str, tmp_path: Path
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    docs = page.goto(live_server + "/docs")
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Vigía" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".swagger-ui .opblock").count() > 20
    _save_screenshot(page, tmp_path, "docs.png")

    stats = page.goto(live_server + "/estadisticas?level=comuna")
    assert "frame-ancestors 'none'" in stats.headers["content-security-policy"]
    page.wait_for_selector("table")
    # the page's CSS (a static file now) is applied
    color = page.evaluate("getComputedStyle(document.querySelector('h1')).color")
    assert color == "rgb(15, 42, 74)"
    _save_screenshot(page, tmp_path, "estadisticas.png")

    foreign = [u for u in requested if not u.startswith((live_server, "data:"))]
    assert foreign == []


# --- the first view is one comuna ------------------------------------------------------------

OTHER_COMUNA = "99901"


@pytest.fixture
def second_comuna(engine: Engine, map_data: MapData) -> Iterator[str]:
    """A second, smaller comuna with one barrio, far from the first (committed, then deleted)."""
    square = "MULTIPOLYGON(((-71.0 -41.0, -70.9 -41.0, -70.9 -40.9, -71.0 -40.9, -71.0 -41.0)))"
    with Session(engine) as session:
        first = session.scalar(select(Comuna.code).order_by(Comuna.code).limit(1))
        session.add(Comuna(code=OTHER_COMUNA, name="Comuna de prueba", population=10, geom=square))
        session.flush()
        session.add(
            Barrio(
                comuna_code=OTHER_COMUNA,
                code="P1",
                name="Barrio de prueba",
                population=10,
                geom=square,
            )
        )
        session.commit()
    try:
        assert first is not None
        yield first
    finally:
        with Session(engine) as session:
            session.execute(delete(Barrio).where(Barrio.comuna_code == OTHER_COMUNA))
            session.execute(delete(Comuna).where(Comuna.code == OTHER_COMUNA))
            session.commit()


def _view_center(page: Any) -> tuple[float, float]:
    lon, lat = page.evaluate(
        "() => { const c = window.vigia.map.getCenter(); return [c.lng, c.lat]; }"
    )
    return lon, lat


def test_map_config_lists_the_comunas_most_populated_first(
    client: TestClient, second_comuna: str
) -> None:
    comunas = client.get("/api/v1/map-config").json()["comunas"]

    assert [c["code"] for c in comunas] == [second_comuna, OTHER_COMUNA]
    assert comunas[1]["bbox"] == pytest.approx([-71.0, -41.0, -70.9, -40.9])
    west, south, east, north = comunas[0]["bbox"]
    assert west < east
    assert south < north


def test_browser_first_view_is_the_comuna_of_the_address_or_of_the_selector(
    page: Any, live_server: str, map_data: MapData, second_comuna: str
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    # no comuna named: the most populated one, its barrios only; the selector lists both
    page.goto(live_server + "/")
    _wait_until_loaded(page)
    assert page.locator("#mapa").get_attribute("data-comuna") == second_comuna
    assert page.locator("path.unidad").count() == map_data.barrios
    assert page.locator("#elegir-comuna").is_visible()
    assert page.locator("#comuna option").all_inner_texts() == ["Lanco", "Comuna de prueba"]

    # ?comuna= in the address: fitted to that comuna, its barrio, its ranking
    requested.clear()
    page.goto(live_server + f"/?comuna={OTHER_COMUNA}")
    _wait_until_loaded(page)
    assert page.locator("#mapa").get_attribute("data-comuna") == OTHER_COMUNA
    assert page.locator("#comuna").input_value() == OTHER_COMUNA
    assert page.locator("path.unidad").count() == 1
    lon, lat = _view_center(page)
    assert -71.0 < lon < -70.9
    assert -41.0 < lat < -40.9
    assert any(f"/barrios?comuna={OTHER_COMUNA}" in u for u in requested)
    # without a key the ranking is not asked for (it would only answer 401)
    assert not any("/rankings/latest" in u for u in requested)

    # the selector switches the view and keeps the choice in the address
    page.select_option("#comuna", second_comuna)
    page.wait_for_function(
        f"() => document.getElementById('mapa').dataset.comuna === '{second_comuna}'"
        " && document.body.dataset.estado === 'listo'"
    )
    assert page.locator("path.unidad").count() == map_data.barrios
    assert page.url.endswith(f"?comuna={second_comuna}")
    lon, lat = _view_center(page)
    assert lon < -72
    assert lat > -40

    # an unknown comuna says so and falls back to the first
    page.goto(live_server + "/?comuna=00000")
    _wait_until_loaded(page)
    assert "00000 no está cargada" in page.locator("#nota-comuna").inner_text()
    assert page.locator("#mapa").get_attribute("data-comuna") == second_comuna
