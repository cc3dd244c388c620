"""Load a generated tier (bench/data/<tier>/) into a benchmark database.

    python -m bench.tiers region
    VIGIA_DATABASE_URL=postgresql+psycopg://.../vigia_bench python -m bench.load region

Creates the database if missing, migrates it, loads every territory file and imports
complaints.csv in one transaction, then runs ANALYZE so plans reflect the data.
"""

from __future__ import annotations

import argparse
import os
import time

import orjson
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from app import migrations as schema
from app.categories import catalog as categories
from app.complaints.ingest import import_complaints
from app.settings import TerritorySettings
from app.territory import service as territory
from bench.tiers import OUT


def _ensure_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        ).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tier")
    args = parser.parse_args()
    url = os.environ["VIGIA_DATABASE_URL"]
    _ensure_database(url)
    engine = create_engine(url)
    schema.upgrade(engine)
    folder = OUT / args.tier
    started = time.perf_counter()
    with Session(engine) as session:
        categories.load_catalog(session, categories.read_catalog(categories.CATEGORIES_FILE))
        for path in sorted((folder / "territory").glob("*.geojson")):
            parsed = territory.parse_territory(orjson.loads(path.read_bytes()), TerritorySettings())
            territory.load_territory(session, parsed)
        session.commit()
        print(f"territorio cargado en {time.perf_counter() - started:.0f} s", flush=True)
        report = import_complaints(
            session, folder / "complaints.csv", mode="skip-invalid", loaded_by="bench"
        )
        session.commit()
    print(
        f"denuncias: {report.inserted} nuevas, {report.rejected} rechazadas en"
        f" {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


if __name__ == "__main__":
    main()
