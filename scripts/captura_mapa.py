"""Screenshot of the web map for the README (docs/img/mapa.png), with Debian's chromium.

    .venv/bin/python scripts/captura_mapa.py --url http://127.0.0.1:8000 --key vga_... \
        [--out docs/img/mapa.png]

Opens the map with a planner key, switches to micro-barrios, zooms to Lanco town, clicks a
micro-barrio and saves the page (run it against `make run`'s demo data).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shapely.geometry import shape

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def unit_point(code: str) -> tuple[float, float]:
    features = json.loads((REPO / "data" / "barrios.geojson").read_text())["features"]
    found = next(f for f in features if f["properties"]["code"] == code)
    p = shape(found["geometry"]).representative_point()
    return p.x, p.y


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True, help="clave con rol planner (o admin)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "mapa.png")
    parser.add_argument("--unit", default="B01001-03", help="micro-barrio a abrir en el panel")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="es-CL")
        page.goto(args.url + "/")
        page.evaluate("key => sessionStorage.setItem('vigia.clave', key)", args.key)
        page.reload()
        # selectors, not wait_for_function: the page's CSP forbids the eval it needs
        page.wait_for_selector("body[data-estado='listo']", state="attached", timeout=60_000)
        page.check("input[name=nivel][value=micro_barrio]")
        page.wait_for_selector("#mapa[data-unidades='19']", state="attached")
        page.wait_for_selector("body[data-estado='listo']", state="attached")
        page.evaluate("window.vigia.map.setView([-39.4515, -72.7695], 15, {animate: false})")
        lon, lat = unit_point(args.unit)
        x, y = page.evaluate(
            "([lat, lon]) => { const p = window.vigia.map.latLngToContainerPoint([lat, lon]);"
            " return [p.x, p.y]; }",
            [lat, lon],
        )
        box = page.locator("#mapa").bounding_box()
        assert box is not None
        page.uncheck("#ver-denuncias")  # so the click reaches the polygon, not a cluster
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_selector("#panel-contenido[data-tipo]")
        page.check("#ver-denuncias")
        page.wait_for_selector("#mapa[data-denuncias]:not([data-denuncias='0'])", state="attached")
        page.mouse.move(box["x"] + 5, box["y"] + box["height"] - 5)  # no tooltip in the shot
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out))
        browser.close()
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
