"""The police field form (/reportar) on a slow rural link: bytes of the first load and time
until it can take a report.

    VIGIA_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vigia_bench_h7 \\
        flock /tmp/vigia-bench.lock python -m bench.field_form --port 8141 [--rounds 7]

The database needs the territory and the risk-factor catalogue (`vigia db upgrade` and
`vigia territory load`; `vigia demo-data` is fine too). Vigía is served by uvicorn (1 worker)
in a subprocess; Debian's chromium is driven by Playwright with the link throttled through
the Chrome DevTools protocol (Network.emulateNetworkConditions: 400 kbit/s each way, 400 ms
latency). Each round opens a FRESH browser context (empty HTTP cache, no service worker) for
each side, interleaved round by round:
  - "primera visita": no key on the device (the officer has not typed it yet);
  - "clave guardada": the key remembered on the device (localStorage), the cache empty: the
    page also checks the key (/me) and reads the police catalogue with it.
"Ready" is the page's own signal (body data-estado="listo": the catalogue is read and the
form enabled), timed in the page from navigation start; bytes are the transfer sizes of the
navigation and every resource (Resource Timing) at that moment. After "ready" the service
worker keeps the page's files for offline use: that download is off the critical path and
printed apart. Prints medians with p25-p75, the budget (250 KB, 6 s) and the load averages.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
from typing import Any

import httpx
from sqlalchemy import create_engine, delete
from sqlalchemy.orm import Session

from app.identity import api_keys
from app.models import ApiKey, Role
from app.web.field import WORKER_FILE as FIELD_WORKER
from bench.common import BENCH_URL
from bench.map import serve, spread
from tests.browser import CHROMIUM, CHROMIUM_ARGS

BUDGET_BYTES = 250 * 1024
BUDGET_MS = 6000
SLOW_LINK = {
    "offline": False,
    "latency": 400,  # ms
    "downloadThroughput": 400_000 / 8,  # bytes/s
    "uploadThroughput": 400_000 / 8,
}
READY_PROBE = """
new MutationObserver((changes, observer) => {
  if (document.body && document.body.dataset.estado === "listo") {
    window.__listo = performance.now();
    observer.disconnect();
  }
}).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-estado"] });
"""
MEASURE = """() => {
  const entries = [...performance.getEntriesByType("navigation"),
                   ...performance.getEntriesByType("resource")];
  return { ready: window.__listo, requests: entries.length,
           bytes: entries.reduce((total, e) => total + (e.transferSize || 0), 0),
           leaflet: entries.some((e) => e.name.includes("leaflet")) };
}"""
# What the service worker keeps after the first load: its SHELL list, read from the worker
# itself (app/static/reportar/sw.js) so the two never disagree.
_SHELL = re.search(r"const SHELL = \[(.*?)\];", FIELD_WORKER.read_text(), re.S)
assert _SHELL, "app/static/reportar/sw.js sin la lista SHELL"
WORKER_SHELL = re.findall(r'"(/[^"]*)"', _SHELL.group(1))


def first_load(browser: Any, base: str, key: str | None) -> dict[str, Any]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="es-CL", service_workers="block"
    )
    if key:
        context.add_init_script(f"localStorage.setItem('vigia.clave', {key!r});")
    context.add_init_script(READY_PROBE)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
    page.goto(base + "/reportar")
    page.wait_for_function("() => window.__listo !== undefined", timeout=60_000)
    result: dict[str, Any] = page.evaluate(MEASURE)
    context.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_URL)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"carga al inicio: {os.getloadavg()}", flush=True)
    engine = create_engine(args.database_url)
    with Session(engine) as session:
        row, secret = api_keys.create_key(
            session, name="bench terreno", role=Role.POLICE, institution="carabineros"
        )
        session.commit()
        key_id = row.id
    server = serve(args.database_url, args.port)
    base = f"http://127.0.0.1:{args.port}"
    from playwright.sync_api import sync_playwright

    sides = {"primera visita": None, "clave guardada": secret}
    samples: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    try:
        shell = sum(len(httpx.get(base + path).content) for path in WORKER_SHELL)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for key in sides.values():  # warm-up: server caches, statement caches
                first_load(browser, base, key)
            for _ in range(args.rounds):
                for side, key in sides.items():
                    samples[side].append(first_load(browser, base, key))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        with Session(engine) as session:
            session.execute(delete(ApiKey).where(ApiKey.id == key_id))
            session.commit()
    print("\nenlace: 400 kbit/s de bajada y de subida, 400 ms de latencia (CDP)")
    print(f"{'lado':16} {'listo ms p50 (p25-p75)':>24} {'bytes p50 (p25-p75)':>26} {'pedidos':>8}")
    for side, rows in samples.items():
        ready = [r["ready"] for r in rows]
        size = [r["bytes"] for r in rows]
        worst_ms, worst_bytes = max(ready), max(size)
        verdict = "cumple" if worst_ms <= BUDGET_MS and worst_bytes <= BUDGET_BYTES else "NO cumple"
        print(
            f"{side:16} {spread(ready):>24} {spread(size):>26} "
            f"{statistics.median(r['requests'] for r in rows):>8.0f}   "
            f"peor: {worst_ms:.0f} ms, {worst_bytes / 1024:.0f} KB -> {verdict} "
            f"({BUDGET_MS} ms, {BUDGET_BYTES // 1024} KB)"
        )
        assert not any(r["leaflet"] for r in rows), "Leaflet no debe estar en la primera carga"
    print(f"después de 'listo', el service worker guarda la página: {shell / 1024:.0f} KB")
    print(f"carga al final: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
