"""Screenshots of the work pages (/bandeja, /unidad, /proyectos) at desktop and 390 px width,
with Debian's chromium, for docs/img/ (run it against `make run`'s demo data).

    .venv/bin/python scripts/captura_trabajo.py --url http://127.0.0.1:8000 \
        --admin vga_... --unit vga_... [--planner vga_...] [--out docs/img]

Each page is opened with its key and its first report or project, and saved as
trabajo-<page>.png (1400 x 900) and trabajo-<page>-movil.png (390 x 844: on a phone the open item comes first).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SIZES = {"": {"width": 1400, "height": 900}, "-movil": {"width": 390, "height": 844}}


def _ready(page: Any) -> None:
    # selectors, not wait_for_function: the page's CSP forbids the eval it needs
    page.wait_for_selector("body[data-estado='listo']", state="attached", timeout=60_000)


def capture(
    browser: Any, url: str, key: str, name: str, item: str, out: Path, then: str | None = None
) -> None:
    for suffix, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport, locale="es-CL", device_scale_factor=1)
        page = context.new_page()
        page.goto(url + "/" + name)
        page.evaluate("key => sessionStorage.setItem('vigia.clave', key)", key)
        page.reload()
        _ready(page)
        page.locator(item).first.click()
        page.wait_for_selector("#detalle-contenido[data-id]")
        _ready(page)
        if then:  # a button to press once the item is open (the project's evaluation)
            page.get_by_role("button", name=then).click()
            _ready(page)
        page.wait_for_timeout(800)  # the map's barrio outlines and the photos
        if not suffix:  # on a desktop the detail stays in view: show the page from its top
            page.evaluate("() => window.scrollTo(0, 0)")
        else:  # on a phone, the open item from its title
            page.evaluate("() => document.getElementById('detalle').scrollIntoView()")
        page.screenshot(path=str(out / f"trabajo-{name}{suffix}.png"))
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--admin", required=True, help="clave con rol admin")
    parser.add_argument("--unit", required=True, help="clave con rol unit")
    parser.add_argument("--planner", help="clave con rol planner (si no, la de admin)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        # a report still to validate (its actions open), and one the unit is working on
        reported = "#informes button.item[data-estado='reportado']"
        capture(browser, args.url, args.admin, "bandeja", reported, args.out)
        working = "#informes button.item[data-estado='en_gestion']"
        capture(browser, args.url, args.unit, "unidad", working, args.out)
        planner = args.planner or args.admin
        item = "#proyectos button.item"
        capture(browser, args.url, planner, "proyectos", item, args.out, "Ver la evaluación")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
