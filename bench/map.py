"""The web map's first view: time until it is drawn, and bytes downloaded, keyed vs unkeyed.

    VIGIA_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vigia_bench_h7 \\
        flock /tmp/vigia-bench.lock python -m bench.map --port 8817 [--rounds 15] [--comuna CUT]

The database holds a tier (`vigia demo-data` on Lanco, or `bench.tiers` + `bench.load`).
Vigía is served by uvicorn in a subprocess (`--workers`, 2 by default as in
docs/deploy/vigia.service); Debian's chromium is driven by
Playwright. Each round opens a FRESH browser context (empty cache and storage) for each side,
interleaved round by round (keyed, unkeyed, keyed, ...): "keyed" carries a planner key in
sessionStorage (complaint tiles + exact risk factors), "unkeyed" sees the public layers.
"Ready" is the page's own signal (body data-estado="listo", set once every layer has drawn
its first view), timed in the page from navigation start (performance.now()); bytes are
the transfer sizes of the navigation and every resource (Resource Timing) at that moment.
Prints medians with p25-p75 and the keyed/unkeyed ratio, and the load averages.

`--before TREE --before-port PORT` adds the sides "antes": a second Vigía served from another
checkout (e.g. `git worktree add /tmp/map-before <commit>`, with its app/static/vendor), on
the same database, opened in the same rounds: each round runs keyed and unkeyed on both
codes, in an order that alternates round by round, so load drift lands on all four alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.orm import Session

from app.identity import api_keys
from app.models import ApiKey, Complaint, Role
from bench.common import BENCH_URL
from tests.browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
# Runs in every page before its own scripts (injected by the browser, not subject to the CSP):
# note when the page says "listo" for the first time.
READY_PROBE = """
new MutationObserver((changes, observer) => {
  if (document.body && document.body.dataset.estado === "listo") {
    window.__listo = performance.now();
    observer.disconnect();
  }
}).observe(document, { attributes: true, subtree: true,
  attributeFilter: ["data-estado"] });
"""
MEASURE = """() => {
  const entries = [...performance.getEntriesByType("navigation"),
                   ...performance.getEntriesByType("resource")];
  const tiles = entries.filter((e) => e.name.includes("/tiles/WebMercatorQuad/"));
  const sum = (list) => list.reduce((total, e) => total + (e.transferSize || 0), 0);
  return { ready: window.__listo, bytes: sum(entries), tileBytes: sum(tiles),
           requests: entries.length, tiles: tiles.length,
           drawn: document.getElementById("mapa").dataset.denuncias };
}"""


def serve(url: str, port: int, tree: Path = ROOT, workers: int = 2) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    argv += ["--workers", str(workers), "--log-level", "warning"]
    # one client opens the page 2 x rounds times: lift the per-client limit of unkeyed requests
    env = {**os.environ, "VIGIA_DATABASE_URL": url, "VIGIA_LIMIT_PUBLIC_REQUESTS": "1000000"}
    env["PYTHONPATH"] = str(tree)
    process = subprocess.Popen(argv, env=env, cwd=tree)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code < 500:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError("uvicorn no arrancó")
        time.sleep(0.2)


def first_view(browser: Any, base: str, key: str | None, path: str = "/") -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="es-CL")
    if key:
        context.add_init_script(f"sessionStorage.setItem('vigia.clave', {key!r});")
    context.add_init_script(READY_PROBE)
    page = context.new_page()
    page.goto(base + path)
    try:
        page.wait_for_function("() => window.__listo !== undefined", timeout=30_000)
    except Exception:
        state = page.evaluate("() => [document.title, document.body.innerText.slice(0, 300)]")
        print("sin 'listo':", state, flush=True)
        raise
    result: dict[str, Any] = page.evaluate(MEASURE)
    context.close()
    return result


def spread(values: list[float]) -> str:
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{statistics.median(values):8.0f} ({q[0]:.0f}-{q[2]:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_URL)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--comuna", help="código CUT de la primera vista (?comuna=)")
    parser.add_argument("--before", type=Path, help="otro checkout del código: lados 'antes'")
    parser.add_argument("--before-port", type=int, help="puerto del Vigía de --before")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="procesos de uvicorn por lado (2: el despliegue, docs/deploy/vigia.service)",
    )
    args = parser.parse_args()
    if args.before and not args.before_port:
        parser.error("--before necesita --before-port")
    path = f"/?comuna={args.comuna}" if args.comuna else "/"
    print(f"carga al inicio: {os.getloadavg()}; workers de uvicorn: {args.workers}", flush=True)
    engine = create_engine(args.database_url)
    with Session(engine) as session:
        complaints = session.scalar(select(func.count()).select_from(Complaint))
        row, secret = api_keys.create_key(
            session, name="bench mapa", role=Role.PLANNER, institution="municipalidad"
        )
        session.commit()
        key_id = row.id
    print(f"denuncias en la base: {complaints}", flush=True)
    servers = [serve(args.database_url, args.port, workers=args.workers)]
    base = f"http://127.0.0.1:{args.port}"
    # side -> (server base URL, key)
    sides: dict[str, tuple[str, str | None]] = {
        "con clave": (base, secret),
        "sin clave": (base, None),
    }
    if args.before:
        servers.append(
            serve(args.database_url, args.before_port, args.before.resolve(), args.workers)
        )
        before = f"http://127.0.0.1:{args.before_port}"
        sides |= {"antes con clave": (before, secret), "antes sin clave": (before, None)}
    from playwright.sync_api import sync_playwright

    samples: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            # warm-up: server and statement caches, in every worker (the kernel picks one)
            for _ in range(2 * args.workers):
                for server_base, key in sides.values():
                    first_view(browser, server_base, key, path)
            order = list(sides.items())
            for round_ in range(args.rounds):
                # alternate the order, so no side always follows the same one
                for side, (server_base, key) in order if round_ % 2 == 0 else order[::-1]:
                    samples[side].append(first_view(browser, server_base, key, path))
            browser.close()
        old = httpx.get(
            base + "/api/v1/complaints",
            params={"limit": 10_000},
            headers={"Authorization": f"Bearer {secret}"},
            timeout=120,
        )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        with Session(engine) as session:
            session.execute(delete(ApiKey).where(ApiKey.id == key_id))
            session.commit()
    print(f"\n{'lado':16} {'listo ms p50 (p25-p75)':>24} {'bytes p50 (p25-p75)':>26}", end="")
    print(f" {'teselas':>8} {'bytes teselas':>14} {'denuncias':>10}")
    for side, rows in samples.items():
        ready = [r["ready"] for r in rows]
        size = [r["bytes"] for r in rows]
        print(
            f"{side:16} {spread(ready):>24} {spread(size):>26} "
            f"{statistics.median(r['tiles'] for r in rows):>8.0f} "
            f"{statistics.median(r['tileBytes'] for r in rows):>14.0f} {rows[0]['drawn']:>10}"
        )

    def ratio(top: str, bottom: str) -> float:
        pairs = zip(samples[top], samples[bottom], strict=True)
        return statistics.median(a["ready"] / b["ready"] for a, b in pairs)

    print(f"con clave / sin clave, ronda a ronda: p50 {ratio('con clave', 'sin clave'):.2f}")
    if args.before:
        for side in ("con clave", "sin clave"):
            print(f"{side}: después / antes, ronda a ronda: p50 {ratio(side, 'antes ' + side):.2f}")
    print(
        f"referencia: la lista GeoJSON que bajaba el mapa anterior "
        f"(/api/v1/complaints?limit=10000) pesa hoy {len(old.content):,} bytes"
    )
    print(f"carga al final: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
