"""Census blocks (manzanas): the loader, the public OGC collection and tiles, and the web
map's light base drawn from them.

Planted truth: Lanco's block file (data/lanco/, INE's 2016 pre-census) has 175 blocks, all in
comuna 14103 (127 in Lanco town, 48 in Malalhue). Null world: a comuna with no blocks loaded
gets the micro-barrios as its base (tests/test_web_map_view.py), and the risk-terrain model's
candidate layers are the same with or without blocks.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.errors import InvalidInput
from app.models import CensusBlock, ContextFeature
from app.risk_terrain.service import resolve_layers
from app.territory import blocks
from app.web import map as web_map
from tests.browser import axe_violations, launch_chromium
from tests.conftest import REPO

BLOCKS_FILE = REPO / "data" / "lanco" / "manzanas_precenso_2016.geojson"
LANCO = "14103"
LANCO_TOWN = (-72.775, -39.452)
# a ring that crosses itself, inside Lanco town
_CROSSED = [[-72.780, -39.450], [-72.770, -39.455], [-72.770, -39.450], [-72.780, -39.455]]
BOW_TIE = {"type": "Polygon", "coordinates": [[*_CROSSED, _CROSSED[0]]]}


def _document() -> dict[str, Any]:
    return json.loads(BLOCKS_FILE.read_text(encoding="utf-8"))


def _write(tmp_path: Path, document: dict[str, Any], name: str = "manzanas.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CensusBlock)) or 0


def _load(session: Session, path: Path, **options: Any) -> blocks.BlocksLoadReport:
    return blocks.load_blocks(session, blocks.parse_blocks_file(path), **options)


def _rejected(session: Session, path: Path, **options: Any) -> InvalidInput:
    before = _count(session)
    with pytest.raises(InvalidInput) as info:
        _load(session, path, **options)
    assert _count(session) == before, "a rejected file must write nothing"
    return info.value


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


# --- loading ---------------------------------------------------------------------------------


def test_the_block_file_loads_every_block_into_its_comuna(db: Session) -> None:
    document = _document()
    assert _count(db) == 0

    report = _load(db, BLOCKS_FILE)

    ids = sorted(f["properties"]["manzana_id"] for f in document["features"])
    assert (report.total, report.inserted, report.updated, report.unchanged) == (175, 175, 0, 0)
    assert report.by_comuna == {LANCO: 175}
    stored = db.execute(
        select(
            CensusBlock.source_id,
            CensusBlock.comuna_code,
            func.ST_GeometryType(CensusBlock.geom),
        )
    ).all()
    assert sorted(row[0] for row in stored) == ids
    assert {(row[1], row[2]) for row in stored} == {(LANCO, "ST_MultiPolygon")}
    town = CensusBlock.attributes["localidad"].astext
    towns = db.execute(select(town, func.count()).group_by(town)).all()
    assert dict(towns) == {"Lanco urbano": 127, "Malalhue": 48}


def test_reloading_changes_nothing_and_a_changed_block_is_updated(
    db: Session, tmp_path: Path
) -> None:
    _load(db, BLOCKS_FILE)
    again = _load(db, BLOCKS_FILE)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 175)
    assert _count(db) == 175

    document = _document()
    moved = document["features"][0]
    moved["geometry"]["coordinates"] = [
        [[[x + 0.0001, y] for x, y in ring] for ring in polygon]
        for polygon in moved["geometry"]["coordinates"]
    ]
    document["features"] = document["features"][:100]
    report = _load(db, _write(tmp_path, document))
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 99)
    assert report.not_in_file == 75  # kept, and said
    assert _count(db) == 175


def test_bad_geometries_are_named_in_spanish_and_nothing_is_written(
    db: Session, tmp_path: Path
) -> None:
    document = _document()
    document["features"][3]["geometry"] = BOW_TIE
    document["features"][7]["geometry"] = {"type": "Point", "coordinates": list(LANCO_TOWN)}
    document["features"][9]["properties"]["manzana_id"] = None

    error = _rejected(db, _write(tmp_path, document))

    assert error.instance_code == blocks.INVALID_FILE
    assert "3 problema(s); no se escribió nada" in error.detail
    by_index = {e["index"]: e for e in error.errors}
    assert sorted(by_index) == [3, 7, 9]
    assert by_index[3]["field"] == "geometry"
    assert "se cruza a sí mismo" in by_index[3]["reason"]
    assert by_index[3]["code"] == document["features"][3]["properties"]["manzana_id"]
    assert "tipo de geometría 'Point' no permitido" in by_index[7]["reason"]
    assert (by_index[9]["field"], by_index[9]["reason"]) == ("manzana_id", "falta el identificador")


def test_a_block_outside_the_comunas_or_an_unknown_comuna_writes_nothing(
    db: Session, tmp_path: Path
) -> None:
    document = _document()
    santiago = [[[-70.66, -33.44], [-70.65, -33.44], [-70.65, -33.45], [-70.66, -33.44]]]
    document["features"][5]["geometry"] = {"type": "Polygon", "coordinates": santiago}
    error = _rejected(db, _write(tmp_path, document))
    assert error.errors == [
        {
            "field": "geometry",
            "reason": "queda fuera de todas las comunas cargadas",
            "index": 5,
            "code": document["features"][5]["properties"]["manzana_id"],
        }
    ]
    assert _rejected(db, BLOCKS_FILE, comuna="99999").errors[0]["field"] == "comuna"


def test_blocks_are_never_a_risk_terrain_layer(db: Session) -> None:
    before = resolve_layers(db, None)
    contexts = db.scalar(select(func.count()).select_from(ContextFeature))

    _load(db, BLOCKS_FILE)

    assert resolve_layers(db, None) == before
    assert db.scalar(select(func.count()).select_from(ContextFeature)) == contexts
    with pytest.raises(InvalidInput):
        resolve_layers(db, ["manzanas"])


def test_cli_loads_reports_progress_and_errors_in_spanish(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    from app.settings import get_database_settings

    runner = CliRunner(env={"VIGIA_DATABASE_URL": database_url, "COLUMNS": "200"})
    bad = _document()
    bad["features"][2]["geometry"] = BOW_TIE
    block_id = bad["features"][2]["properties"]["manzana_id"]
    get_database_settings.cache_clear()  # the command must reach the test database
    try:
        result = runner.invoke(cli, ["territory", "blocks", str(_write(tmp_path, bad))])
        assert result.exit_code == 1, result.output
        assert f"[feature 2, {block_id}] geometry: geometría no válida" in result.output
        assert "no se escribió nada" in result.output
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(CensusBlock)) == 0

        result = runner.invoke(cli, ["territory", "blocks", str(BLOCKS_FILE)])
        assert result.exit_code == 0, result.output
        assert "escritas 175 de 175 manzanas" in result.output
        assert "Manzanas: 175 (14103: 175); 175 nuevas, 0 actualizadas, 0 sin cambios" in (
            result.output
        )
        result = runner.invoke(cli, ["territory", "blocks", str(BLOCKS_FILE)])
        assert result.exit_code == 0, result.output
        assert "0 nuevas, 0 actualizadas, 175 sin cambios" in result.output
    finally:
        get_database_settings.cache_clear()
        with engine.begin() as conn:
            conn.execute(delete(CensusBlock))


# --- serving ---------------------------------------------------------------------------------


def test_the_map_config_counts_each_comunas_blocks(db: Session) -> None:
    def lanco() -> Any:
        return next(c for c in web_map.comuna_views(db) if c.code == LANCO)

    assert lanco().census_blocks == 0
    _load(db, BLOCKS_FILE)
    assert lanco().census_blocks == 175


def test_blocks_are_a_public_collection_with_geometry_and_no_counts(
    db: Session, client: TestClient
) -> None:
    _load(db, BLOCKS_FILE)

    collection = client.get("/ogc/collections/manzanas")
    assert collection.status_code == 200
    items = client.get("/ogc/collections/manzanas/items", params={"limit": 500})
    assert items.status_code == 200, items.text
    assert items.headers["content-type"].startswith("application/geo+json")
    body = items.json()
    assert body["numberMatched"] == 175
    assert len(body["features"]) == 175
    assert {f["geometry"]["type"] for f in body["features"]} == {"MultiPolygon"}
    assert {tuple(sorted(f["properties"])) for f in body["features"]} == {("code", "comuna")}
    queryables = client.get("/ogc/collections/manzanas/queryables").json()["properties"]
    assert "population" not in queryables


def test_block_tiles_are_public_and_hold_the_towns_blocks(db: Session, client: TestClient) -> None:
    x, y = tile_of(*LANCO_TOWN, 15)
    url = f"/ogc/collections/manzanas/tiles/WebMercatorQuad/15/{x}/{y}"
    empty = client.get(url)
    assert empty.status_code == 200
    assert "manzanas" not in mapbox_vector_tile.decode(empty.content)

    _load(db, BLOCKS_FILE)
    response = client.get(url)  # no key

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert response.headers["cache-control"].startswith("public")
    layer = mapbox_vector_tile.decode(response.content)["manzanas"]
    codes = {f["properties"]["code"] for f in layer["features"]}
    assert codes
    assert all(code.startswith(LANCO) for code in codes)
    assert {f["properties"]["comuna"] for f in layer["features"]} == {LANCO}
    assert {f["geometry"]["type"] for f in layer["features"]} <= {"Polygon", "MultiPolygon"}
    # Malalhue's blocks are 25 km away: not in a Lanco town tile
    malalhue = {
        f["properties"]["manzana_id"]
        for f in _document()["features"]
        if f["properties"]["localidad"] == "Malalhue"
    }
    assert not codes & malalhue


# --- the web map -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture
def committed_blocks(engine: Engine) -> Iterator[int]:
    """Lanco's blocks committed for the live server, removed afterwards."""
    with Session(engine) as session:
        report = _load(session, BLOCKS_FILE)
        session.commit()
    try:
        yield report.total
    finally:
        with engine.begin() as conn:
            conn.execute(delete(CensusBlock))


def _save_screenshot(page: Any, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    keep = os.environ.get("VIGIA_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / name)


@pytest.mark.parametrize("width", [390, 1400])
def test_without_a_basemap_the_map_draws_its_base_from_the_blocks(
    chromium: Any, live_server: str, committed_blocks: int, tmp_path: Path, width: int
) -> None:
    context = chromium.new_context(viewport={"width": width, "height": 850}, locale="es-CL")
    page = context.new_page()
    page.set_default_timeout(30_000)
    refused: list[str] = []
    page.on(
        "response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    block_tiles: list[str] = []
    page.on(
        "request",
        lambda r: block_tiles.append(r.url) if "/collections/manzanas/tiles/" in r.url else None,
    )
    page.goto(live_server + "/")
    page.wait_for_function("() => document.body.dataset.estado === 'listo'")
    page.wait_for_selector("path.fondo-manzanas", state="attached")
    page.wait_for_load_state("networkidle")

    assert page.locator("#mapa").get_attribute("data-fondo") == "manzanas"
    drawn = page.locator("path.fondo-manzanas").count()
    # Lanco town's 127 blocks, some cut in two by a tile edge; none of Malalhue's
    assert 127 <= drawn <= 2 * 127
    assert page.locator("path.fondo-micro-barrios").count() == 0
    assert block_tiles
    # the base is under everything: its pane is below the units'
    panes = page.evaluate(
        "() => [getComputedStyle(window.vigia.map.getPane('fondo')).zIndex,"
        " getComputedStyle(window.vigia.map.getPane('unidades')).zIndex].map(Number)"
    )
    assert panes[0] < panes[1]
    _save_screenshot(page, tmp_path, f"mapa-manzanas-{width}.png")
    assert axe_violations(page) == []
    context.close()
    assert refused == []
