"""OGC API items and vector tiles: Vigía over HTTP vs its own SQL run directly vs tipg 1.6.

    python -m bench.tiers region
    VIGIA_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vigia_bench_h6 \\
        python -m bench.load region
    python -m venv bench/.venv-tipg && bench/.venv-tipg/bin/pip install 'tipg==1.6.*' uvicorn
    VIGIA_DATABASE_URL=... python -m bench.ogc [--runs 30]

Vigía and tipg are each served by uvicorn (1 worker) in a subprocess on loopback; requests
are sequential (one client), and every figure is the median (p50) of `--runs` requests
after one warm-up. "SQL" is the statement Vigía issues (built by the same service code),
executed with psycopg on a warm connection and fully fetched. Prints a table of ratios.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from app.db import CUSTOM_PLANS, SESSION_SETTINGS
from app.identity import api_keys
from app.identity.caller import Caller
from app.models import Role
from app.ogc import items, tiles
from app.ogc.collections import REGISTRY
from app.settings import TileSettings

ROOT = Path(__file__).resolve().parents[1]
TIPG_VENV = ROOT / "bench" / ".venv-tipg"
VIGIA_PORT, TIPG_PORT = 8811, 8812
ZOOMS = range(10, 17)


def p50(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@contextmanager
def serve(argv: list[str], env: dict[str, str], health: str) -> Iterator[None]:
    process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=ROOT)
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if httpx.get(health, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"no arrancó: {argv}")
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--tiles-per-zoom", type=int, default=5)
    args = parser.parse_args()
    url = os.environ["VIGIA_DATABASE_URL"]
    engine = create_engine(url)
    with Session(engine) as session:
        _, secret = api_keys.create_key(
            session, name="bench ogc", role=Role.PLANNER, institution="municipalidad"
        )
        session.commit()
        # tiles around the busiest micro-barrios, so every zoom draws real data
        centres = session.execute(
            text(
                "SELECT ST_X(ST_PointOnSurface(m.geom)), ST_Y(ST_PointOnSurface(m.geom)) "
                "FROM micro_barrio m JOIN complaint c ON c.micro_barrio_id = m.id "
                "GROUP BY m.id ORDER BY count(*) DESC, m.id LIMIT :n"
            ),
            {"n": args.tiles_per_zoom},
        ).all()
    caller = Caller(role=Role.PLANNER)
    complaints = REGISTRY["complaints"]
    pg_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    direct = psycopg.connect(pg_url, autocommit=True)
    for name, value in SESSION_SETTINGS.items():  # the same session settings as Vigía's
        direct.execute(f"SET {name} = {value}")

    def run_sql(stmt: object, values: dict[str, object]) -> Callable[[], object]:
        compiled = stmt.compile(engine)  # type: ignore[attr-defined]
        sql, params = str(compiled), compiled.construct_params(values)
        return lambda: direct.execute(sql, params).fetchall()

    vigia_env = {"VIGIA_DATABASE_URL": url}
    vigia = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(VIGIA_PORT)]
    vigia += ["--workers", "1", "--log-level", "warning"]
    tipg_env = {
        "DATABASE_URL": pg_url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.complaint"]',
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    tipg = [str(TIPG_VENV / "bin" / "uvicorn"), "tipg.main:app", "--port", str(TIPG_PORT)]
    tipg += ["--workers", "1", "--log-level", "warning"]
    v_root = f"http://127.0.0.1:{VIGIA_PORT}"
    v_base = f"{v_root}/ogc/collections/complaints"
    t_base = f"http://127.0.0.1:{TIPG_PORT}/collections/public.complaint"
    headers = {"Authorization": f"Bearer {secret}"}
    rows: list[tuple[str, float, float, float | None]] = []
    with (
        serve(vigia, vigia_env, f"http://127.0.0.1:{VIGIA_PORT}/health"),
        serve(tipg, tipg_env, f"http://127.0.0.1:{TIPG_PORT}/healthz"),
        httpx.Client(timeout=120) as http,
    ):

        def get(target: str, **params: object) -> Callable[[], object]:
            def call() -> object:
                response = http.get(target, params=params, headers=headers)
                response.raise_for_status()
                return response.content

            return call

        # The floor: what any response costs over HTTP here, before any SQL. /conformance
        # is a constant document; /tiles (tileset metadata) adds only the key check.
        floors = {
            "sin BD (/conformance)": p50(
                get(f"http://127.0.0.1:{VIGIA_PORT}/ogc/conformance"), 100
            ),
            "clave (/tiles)": p50(get(f"{v_base}/tiles"), 100),
        }
        for limit in (10, 10_000):
            stmt, values = items.build_items_statement(
                complaints, items.ItemsQuery(limit=limit), caller
            )
            sql = p50(run_sql(stmt, values), args.runs)
            ours = p50(get(f"{v_base}/items", limit=limit), args.runs)
            theirs = p50(get(f"{t_base}/items", limit=limit), args.runs)
            rows.append((f"items limit={limit}", ours, sql, theirs))

        settings = TileSettings()
        for z in ZOOMS:
            coords = [tile_of(lon, lat, z) for lon, lat in centres]
            n = max(1, args.runs // len(coords))
            ours_t, sql_t, theirs_t = [], [], []
            for x, y in coords:
                stmt, aggregated = tiles.tile_statement(complaints, caller, z, settings)
                # the same plan setting as Vigía's tile path
                direct.execute(f"SET {CUSTOM_PLANS}" if aggregated else "RESET plan_cache_mode")
                sql_t.append(p50(run_sql(stmt, tiles.tile_params(z, x, y)), n))
                ours_t.append(p50(get(f"{v_base}/tiles/WebMercatorQuad/{z}/{x}/{y}"), n))
                theirs_t.append(p50(get(f"{t_base}/tiles/WebMercatorQuad/{z}/{x}/{y}"), n))
            rows.append(
                (
                    f"tesela z{z}",
                    statistics.median(ours_t),
                    statistics.median(sql_t),
                    statistics.median(theirs_t),
                )
            )

    with Session(engine) as session:
        session.execute(text("DELETE FROM api_key WHERE name = 'bench ogc'"))
        session.commit()
    direct.close()
    print(
        f"{'caso':<22}{'Vigía ms':>10}{'SQL ms':>10}{'tipg ms':>10}"
        f"{'Vigía/SQL':>11}{'Vigía/tipg':>12}{'mínimo':>10}"
    )
    for name, ours, sql, theirs in rows:
        vs_tipg = f"{ours / theirs:>12.2f}" if theirs else f"{'-':>12}"
        print(
            f"{name:<22}{ours * 1000:>10.1f}{sql * 1000:>10.1f}"
            f"{(theirs or 0) * 1000:>10.1f}{ours / sql:>11.2f}{vs_tipg}"
            f"{(floors['clave (/tiles)'] + sql) / sql:>10.2f}"
        )
    print("piso de Vigía por HTTP (misma máquina, mismo cliente, p50):")
    for name, value in floors.items():
        print(f"  {name:<24}{value * 1000:>8.2f} ms")
    print(
        "mejor razón posible = (piso con clave + SQL) / SQL: la columna 'mínimo' de arriba; "
        "una meta por debajo de ella no se alcanza con ningún servidor HTTP en Python."
    )


if __name__ == "__main__":
    main()
