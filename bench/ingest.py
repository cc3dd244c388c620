"""Bulk-import speed: `vigia complaints import` path vs `psql \\copy` of the same rows.

    python -m bench.ingest --rows 100000 --rows 1000000

For each size: generate that many region-tier complaints (bench/tiers.py), import them
through `import_complaints` (validation, COPY into staging, one set-based INSERT with the
barrio/micro-barrio spatial join) into an empty `complaint` table, then export the stored
rows, empty the table again and load the very same rows with `psql \\copy` into the same
table (same indexes, same foreign keys). The ratio is Vigía's rows/s over \\copy's: \\copy
is the ceiling (no parsing of ours, no validation, no spatial join).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from app.complaints.ingest import import_complaints
from bench.common import BENCH_URL, bench_engine, load_territory_dir, psql
from bench.tiers import OUT, write_tier


def run(rows: int) -> dict[str, float]:
    engine = bench_engine()
    tier_dir = write_tier("region", seed=2026, limit=rows)
    with engine.begin() as conn:
        if not conn.scalar(text("SELECT count(*) FROM comuna WHERE code LIKE '9%'")):
            load_territory_dir(engine, tier_dir / "territory")
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE complaint"))
    csv_path = OUT / "region" / "complaints.csv"

    started = time.perf_counter()
    with engine.begin() as conn:
        report = import_complaints(conn, csv_path, fmt="csv", loaded_by="bench")
    vigia = time.perf_counter() - started
    assert report.inserted == rows, report

    with tempfile.TemporaryDirectory() as tmp:
        native = Path(tmp) / "native.csv"
        psql(f"\\copy complaint TO '{native}' WITH (FORMAT csv)")
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE complaint"))
        copy = psql(f"\\copy complaint FROM '{native}' WITH (FORMAT csv)")
    engine.dispose()
    return {
        "rows": rows,
        "vigia_s": vigia,
        "copy_s": copy,
        "vigia_rows_s": rows / vigia,
        "copy_rows_s": rows / copy,
        "ratio": copy / vigia,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Ingest benchmark (Vigía import vs psql \\copy)")
    parser.add_argument("--rows", type=int, action="append", help="sizes (repeatable)")
    args = parser.parse_args()
    sizes = args.rows or [100_000, 1_000_000]
    print(f"base de datos: {BENCH_URL}")
    header = ("filas", "Vigía s", "copy s", "Vigía filas/s", "copy filas/s", "razón")
    print("{:>10} {:>9} {:>9} {:>14} {:>14} {:>7}".format(*header))
    for size in sizes:
        r = run(size)
        print(
            f"{r['rows']:>10,.0f} {r['vigia_s']:>9.2f} {r['copy_s']:>9.2f} "
            f"{r['vigia_rows_s']:>14,.0f} {r['copy_rows_s']:>14,.0f} {r['ratio']:>7.2f}"
        )


if __name__ == "__main__":
    main()
