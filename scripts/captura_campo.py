"""Screenshots of the field form, the map's first view and the API docs, at 390 px and on a
desktop, for docs/img/ (Debian's chromium through Playwright).

    .venv/bin/python scripts/captura_campo.py --url http://127.0.0.1:8000 --key vga_... \
        [--out docs/img]
    .venv/bin/python scripts/captura_campo.py --url http://127.0.0.1:8000 --solo-mapa

The key is a police key (the form shows its catalogue and the officer's reports). Run it
against `make run`'s demo data. Saves reportar-{390,escritorio}.png (a line being drawn on
the map), mapa-inicio-{390,escritorio}.png (the public first view, its light base drawn from
the census blocks when no basemap is set), docs-*.png, redoc-*.png; with --solo-mapa, only
the map's first view (no key needed, nothing written to the database).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, report_here, tap_field_map  # noqa: E402

SIZES = {"390": {"width": 390, "height": 844}, "escritorio": {"width": 1400, "height": 900}}
STRETCH = [(-72.7705, -39.4518), (-72.7690, -39.4523), (-72.7676, -39.4528)]


def form(page: Any, url: str, key: str, out: Path) -> None:
    page.goto(url + "/reportar")
    page.wait_for_function("() => document.body.dataset.estado === 'listo'")
    page.evaluate("key => localStorage.setItem('vigia.clave', key)", key)
    page.reload()
    page.wait_for_function("() => document.getElementById('tipo').options.length > 1")
    # one report sent first (a point from the GPS), so "Mis informes recientes" shows it
    report_here(page, "microbasural", {"volumen": "mediano"})
    page.wait_for_function("() => document.querySelectorAll('#enviados li strong').length > 0")
    page.select_option("#tipo", "tramo_sin_iluminacion")
    page.fill("#attr-luminarias_afectadas", "4")
    page.click("#abrir-mapa")
    page.wait_for_selector("#mapa-campo[data-listo]")
    page.evaluate(
        "() => window.vigiaCampo.map.map.setView([-39.4523, -72.769], 16, {animate: false})"
    )
    tap_field_map(page, STRETCH)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(out), full_page=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", help="clave con rol police (no hace falta con --solo-mapa)")
    parser.add_argument(
        "--solo-mapa", action="store_true", help="solo la primera vista pública del mapa"
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args = parser.parse_args()
    if not args.key and not args.solo_mapa:
        parser.error("falta --key (o use --solo-mapa)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for size, viewport in SIZES.items():
            context = browser.new_context(
                viewport=viewport,
                locale="es-CL",
                geolocation={"longitude": -72.7745, "latitude": -39.4535, "accuracy": 9},
                permissions=["geolocation"],
            )
            page = context.new_page()
            page.set_default_timeout(60_000)
            if not args.solo_mapa:
                form(page, args.url, args.key, args.out / f"reportar-{size}.png")
            page.goto(args.url + "/")
            page.wait_for_function("() => document.body.dataset.estado === 'listo'")
            page.wait_for_load_state("networkidle")  # the base's tiles too
            page.wait_for_timeout(500)
            page.screenshot(path=str(args.out / f"mapa-inicio-{size}.png"))
            if args.solo_mapa:
                context.close()
                continue
            page.goto(args.url + "/docs")
            page.wait_for_selector(".opblock-summary")
            page.screenshot(path=str(args.out / f"docs-{size}.png"))
            page.goto(args.url + "/redoc")
            page.wait_for_selector("[data-section-id^='operation/']", state="attached")
            page.wait_for_timeout(500)
            page.screenshot(path=str(args.out / f"redoc-{size}.png"))
            context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
