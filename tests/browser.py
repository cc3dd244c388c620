"""Debian's headless chromium, as the browser tests, bench/map.py and scripts/captura_mapa.py
launch it through Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


def launch_chromium() -> Iterator[Any]:
    """Body of a module-scoped `chromium` fixture: Debian's browser, or a skip (a failure in
    CI, where scripts/bootstrap.sh must have installed it)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("falta /usr/bin/chromium en CI: scripts/bootstrap.sh debe instalarlo")
        pytest.skip("sin /usr/bin/chromium (lo instala scripts/bootstrap.sh con make test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
