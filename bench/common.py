"""Shared bench plumbing: a dedicated database, loading tiers, timing."""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from app import migrations as schema
from app.db import make_engine
from app.settings import DatabaseSettings, TerritorySettings
from app.territory import service as territory

BENCH_URL = os.environ.get(
    "VIGIA_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/vigia_bench"
)


def bench_engine(url: str = BENCH_URL, *, fresh: bool = False) -> Engine:
    """The benchmark database, created and migrated if needed (never the dev or test one)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if fresh:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = make_engine(DatabaseSettings(database_url=url))  # as the service connects
    schema.upgrade(engine)
    return engine


def load_territory_dir(engine: Engine, directory: Path) -> int:
    settings = TerritorySettings()
    files = sorted(directory.glob("*.geojson"))
    with Session(engine) as session:
        for path in files:
            parsed = territory.parse_territory(orjson.loads(path.read_bytes()), settings)
            territory.load_territory(session, parsed)
        session.commit()
    return len(files)


def psql_args(url: str = BENCH_URL) -> list[str]:
    u = make_url(url)
    return [
        "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
        "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432),
        "-U", u.username or "postgres", "-d", u.database or "",
    ]  # fmt: skip


def psql(command: str, url: str = BENCH_URL) -> float:
    """Run one psql command; return its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run([*psql_args(url), "-c", command], check=True)
    return time.perf_counter() - started


def p50(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The WebMercatorQuad tile (x, y) at zoom z holding (lon, lat)."""
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def busiest_micro_barrios(session: Session, n: int) -> list[tuple[float, float]]:
    """A point inside each of the n micro-barrios with most complaints (tiles with data)."""
    rows = session.execute(
        text(
            "SELECT ST_X(ST_PointOnSurface(m.geom)), ST_Y(ST_PointOnSurface(m.geom)) "
            "FROM micro_barrio m JOIN complaint c ON c.micro_barrio_id = m.id "
            "GROUP BY m.id ORDER BY count(*) DESC, m.id LIMIT :n"
        ),
        {"n": n},
    ).all()
    return [(float(lon), float(lat)) for lon, lat in rows]
