"""The web map's first view and base: the settled area (not the whole rural comuna), the
comuna outline, the light base drawn from the micro-barrios when the comuna has no census
blocks (with blocks: tests/test_census_blocks.py), no 401 for the public, a favicon.

Planted truth: in Lanco the micro-barrios cover two towns, Lanco (B01...) and Malalhue
(B03...), 25 km apart; the town with more people is Lanco, so the first view is Lanco's
micro-barrios and none of Malalhue's. Null world: a comuna without micro-barrios has nothing
settled to fit, and its first view is the whole comuna.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from shapely.geometry import box, shape
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import MicroBarrio
from app.web import map as web_map
from tests.browser import launch_chromium


def _lanco(session: Session) -> Any:
    return next(c for c in web_map.comuna_views(session) if c.code == "14103")


def _town_extent(session: Session, prefix: str) -> tuple[float, float, float, float]:
    row = session.execute(
        select(func.ST_Extent(MicroBarrio.geom)).where(MicroBarrio.code.startswith(prefix))
    ).scalar_one()
    return shape_bounds(row)


def shape_bounds(extent: str) -> tuple[float, float, float, float]:
    # "BOX(w s,e n)"
    west_south, east_north = extent[4:-1].split(",")
    w, s = map(float, west_south.split())
    e, n = map(float, east_north.split())
    return w, s, e, n


def test_the_first_view_is_the_most_populated_town(db: Session) -> None:
    lanco = _lanco(db)
    settled = box(*lanco.settled_bbox)
    town = box(*_town_extent(db, "B01"))
    malalhue = box(*_town_extent(db, "B03"))

    assert settled.equals_exact(town, 1e-6)
    assert not settled.intersects(malalhue)
    # a town, not the comuna: a few km2 out of 500
    assert settled.area < box(*lanco.bbox).area / 50


def test_without_micro_barrios_the_first_view_is_the_whole_comuna(db: Session) -> None:
    db.execute(delete(MicroBarrio).where(MicroBarrio.comuna_code == "14103"))

    lanco = _lanco(db)

    assert lanco.settled_bbox == lanco.bbox


def test_the_outline_is_the_comuna_simplified(db: Session) -> None:
    lanco = _lanco(db)
    outline = shape(lanco.outline)

    assert lanco.outline["type"] in ("Polygon", "MultiPolygon")
    for ours, theirs in zip(outline.bounds, lanco.bbox, strict=True):
        assert ours == pytest.approx(theirs, abs=0.001)
    assert len(str(lanco.outline)) < 20_000  # light enough for the first view


# --- headless Chromium ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.mark.parametrize("width", [390, 1400])
def test_the_public_map_shows_the_town_its_fabric_and_the_outline_without_401(
    chromium: Any, live_server: str, engine: Any, width: int
) -> None:
    context = chromium.new_context(viewport={"width": width, "height": 850}, locale="es-CL")
    page = context.new_page()
    page.set_default_timeout(30_000)
    refused: list[str] = []
    page.on(
        "response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    page.goto(live_server + "/")
    page.wait_for_function("() => document.body.dataset.estado === 'listo'")
    page.wait_for_selector("path.fondo-micro-barrios", state="attached")
    with Session(engine) as session:
        micro_barrios = session.scalar(select(func.count()).select_from(MicroBarrio))
        town = box(*_town_extent(session, "B01"))

    assert page.locator("#mapa").get_attribute("data-fondo") == "micro-barrios"
    assert page.locator("path.fondo-micro-barrios").count() == micro_barrios
    assert page.locator("path.contorno-comuna").count() == 1
    west, south, east, north = page.evaluate(
        "() => { const b = window.vigia.map.getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"
    )
    view = box(west, south, east, north)
    assert view.contains(town.centroid)
    assert view.area < 25 * town.area  # the town fills the view, not the rural comuna
    icon = page.evaluate("() => document.querySelector('link[rel=icon]').href")
    assert context.request.get(icon).status == 200
    assert context.request.get(live_server + "/favicon.ico").status == 200
    context.close()
    assert refused == []
