"""Shared bench plumbing: a dedicated database, loading tiers, timing."""

from __future__ import annotations

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
