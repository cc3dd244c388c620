"""Debian's headless chromium, as the browser tests, bench/map.py and scripts/captura_mapa.py
launch it through Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# axe-core, vendored from npm by scripts/bootstrap.sh; injected from Vigía's own origin (the
# pages' CSP allows scripts from 'self' only)
AXE_URL = "/static/vendor/axe-core/axe.min.js"
SERIOUS = ("serious", "critical")


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each (empty: clean)."""
    page.add_script_tag(url=AXE_URL)
    found = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v =>"
        " ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} ({'; '.join(v['nodes'])})"
        for v in found
        if v["impact"] in SERIOUS
    ]


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """The browser of a module's page tests: Debian's chromium, skipped where it is not
    installed (a failure in CI, where scripts/bootstrap.sh must have installed it)."""
    import pytest

    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("falta /usr/bin/chromium en CI: scripts/bootstrap.sh debe instalarlo")
        pytest.skip("sin /usr/bin/chromium (lo instala scripts/bootstrap.sh con make test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def launch_chromium() -> Iterator[Any]:
    """Body of a module-scoped `chromium` fixture (`yield from launch_chromium()`)."""
    with chromium_browser() as browser:
        yield browser


def tap_field_map(page: Any, points: list[tuple[float, float]]) -> None:
    """Tap /reportar's map at each (lon, lat), as an officer's finger would, waiting until
    the form has taken each point (the map is scrolled into view first)."""
    page.locator("#mapa-campo").scroll_into_view_if_needed()
    box = page.locator("#mapa-campo").bounding_box()
    before = page.evaluate("() => window.vigiaCampo.state.vertices.length")
    for i, (lon, lat) in enumerate(points, start=before + 1):
        x, y = page.evaluate("([lon, lat]) => window.vigiaCampo.map.pixelOf(lon, lat)", [lon, lat])
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_function(f"() => window.vigiaCampo.state.vertices.length === {i}")


def report_here(page: Any, type_code: str, choices: dict[str, str]) -> None:
    """On /reportar: a factor of `type_code` at the GPS position, its select attributes set
    from `choices`, then "Guardar y enviar" (the caller waits for what it expects)."""
    page.select_option("#tipo", type_code)
    for code, value in choices.items():
        page.select_option(f"#attr-{code}", value)
    page.click("#gps")
    page.wait_for_function("() => window.vigiaCampo.state.vertices.length === 1")
    page.click("#enviar")
