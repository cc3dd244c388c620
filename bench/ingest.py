"""Bulk-import speed: `vigia complaints import` path vs `psql \\copy` of the same rows.

    flock /tmp/vigia-bench.lock python -m bench.ingest --rows 100000 --rounds 3 \\
        [--db-url postgresql+psycopg://...] [--code /path/to/other/checkout ...]

For each size: generate that many region-tier complaints (bench/tiers.py) and export them
once, as stored rows, to a native CSV. Then, round by round (A, B, ..., copy, A, B, ...):
each side imports the generated CSV through `import_complaints` (validation, COPY into
staging, duplicate check, one set-based INSERT with the barrio/micro-barrio spatial join)
into an empty `complaint` table (after a CHECKPOINT, see `_truncate`), in a subprocess of
its own so that its peak memory (`ru_maxrss`) is its own; the last side loads the native
CSV with `psql \\copy` into the same empty table (same indexes, same foreign keys). The
ratio is \\copy's time over the side's: \\copy is the ceiling (no parsing of ours, no
validation, no spatial join).

A side is a checkout whose `app` package is imported (`--code`, repeatable; default: this
one), so the code of another commit can be measured in the same run, e.g. with
`git worktree add /tmp/before <commit>`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import text

from bench.common import BENCH_URL, bench_engine, load_territory_dir, psql
from bench.tiers import OUT, ROOT, write_tier

# Runs in the child, with the side's checkout first on sys.path.
_CHILD = """
import resource, sys, time
from sqlalchemy import create_engine
from app.complaints.ingest import import_complaints
engine = create_engine(sys.argv[1].replace("postgresql://", "postgresql+psycopg://", 1))
started = time.perf_counter()
with engine.begin() as conn:
    report = import_complaints(conn, sys.argv[2], fmt="csv", loaded_by="bench")
elapsed = time.perf_counter() - started
assert report.inserted == int(sys.argv[3]), report
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _import(code: Path, url: str, csv_path: Path, rows: int) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, url, str(csv_path), str(rows)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=code,
    ).stdout.split()
    return float(out[-2]), int(out[-1])  # seconds, KiB


def _truncate(url: str) -> None:
    """An empty table, and no dirty pages left by the previous side: each import writes a
    few hundred MB of WAL (ten indexes, two of them GiST), so without the CHECKPOINT the
    checkpoint it triggers lands on whichever side runs next (seen: 4.7 to 7.5 s for the
    same import in one run)."""
    psql("TRUNCATE complaint, complaint_geocode", url)
    psql("CHECKPOINT", url)


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def run(rows: int, rounds: int, url: str, codes: list[Path]) -> None:
    engine = bench_engine(url)
    tier_dir = write_tier("region", seed=2026, limit=rows)
    with engine.begin() as conn:
        if not conn.scalar(text("SELECT count(*) FROM comuna WHERE code LIKE '9%'")):
            load_territory_dir(engine, tier_dir / "territory")
    engine.dispose()
    csv_path = OUT / "region" / "complaints.csv"
    times: dict[str, list[float]] = {str(c): [] for c in codes}
    memory: dict[str, list[int]] = {str(c): [] for c in codes}
    times["copy"] = []
    with tempfile.TemporaryDirectory() as tmp:
        native = Path(tmp) / "native.csv"
        for round_no in range(rounds):
            for code in codes:
                _truncate(url)
                seconds, kib = _import(code, url, csv_path, rows)
                times[str(code)].append(seconds)
                memory[str(code)].append(kib)
                print(f"  ronda {round_no + 1} {code}: {seconds:.2f} s, {kib / 1024:.0f} MiB")
                if not native.exists():
                    # in the file's order (the stored order is the importer's choice)
                    export = "(SELECT * FROM complaint ORDER BY external_ref)"
                    psql(f"\\copy {export} TO '{native}' WITH (FORMAT csv)", url)
            _truncate(url)
            seconds = psql(f"\\copy complaint FROM '{native}' WITH (FORMAT csv)", url)
            times["copy"].append(seconds)
            print(f"  ronda {round_no + 1} \\copy: {seconds:.2f} s", flush=True)
    _truncate(url)
    copy_median = statistics.median(times["copy"])
    print(f"{rows:,} filas, {rounds} ronda(s); \\copy: {_spread(times['copy'])} s")
    for code in codes:
        side = times[str(code)]
        ratios = [c / v for c, v in zip(times["copy"], side, strict=True)]
        print(
            f"  {code}: {_spread(side)} s; razón \\copy/Vigía de medianas "
            f"{copy_median / statistics.median(side):.2f}, por ronda {_spread(ratios)}; "
            f"memoria máx. {max(memory[str(code)]) / 1024:.0f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="Ingest benchmark (Vigía import vs psql \\copy)")
    parser.add_argument("--rows", type=int, action="append", help="sizes (repeatable)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db-url", default=BENCH_URL, help="benchmark database (never vigia)")
    parser.add_argument(
        "--code", type=Path, action="append", help="checkout to import `app` from (repeatable)"
    )
    args = parser.parse_args()
    sizes = args.rows or [100_000, 1_000_000]
    codes = [c.resolve() for c in (args.code or [ROOT])]
    print(f"base de datos: {args.db_url}; carga al inicio: {os.getloadavg()}")
    for size in sizes:
        run(size, args.rounds, args.db_url, codes)
    print(f"carga al final: {os.getloadavg()}")


if __name__ == "__main__":
    main()
