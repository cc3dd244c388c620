"""Importing complaints that arrive as addresses vs the same complaints with coordinates.

    flock /tmp/vigia-bench.lock python -m bench.geocode_import [--rows 100000] [--rounds 3] \\
        [--code /path/to/other/checkout ...]

Loads Lanco and the synthetic town's gazetteer (app/demo/town.py) into a database of its
own, writes `--rows` complaints twice, once with `address` only and once with `lon, lat,
precision` (the true point; a point in the town for the addresses it does not have), and
imports each file into an empty `complaint` table, alternating the two round by round. The
address-only import runs with geocode=True: staging, bulk geocoding in PostGIS, write-back,
then the same set-based insert. Prints each time, the ratio of medians and how many rows
were placed and queued.

A side is a checkout whose `app` package runs the imports (`--code`, repeatable; default:
this one), each import in a subprocess of its own, so the code of another commit is
measured in the same rounds (`git worktree add /tmp/before <commit>`); each round runs
every side's two imports in turn.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import Engine, text

from app.demo.town import address_corpus, build_town
from bench.geocode_accuracy import URL, prepare

ROOT = Path(__file__).resolve().parents[1]
# Runs in the child, with the side's checkout first on sys.path.
_CHILD = """
import sys, time
from sqlalchemy import create_engine, text
from app.complaints.ingest import import_complaints
engine = create_engine(sys.argv[1])
with engine.begin() as conn:
    conn.execute(text("TRUNCATE complaint CASCADE"))
geocode = sys.argv[3] == "1"
started = time.perf_counter()
with engine.begin() as conn:
    report = import_complaints(conn, sys.argv[2], fmt="csv", loaded_by="bench", geocode=geocode)
print(time.perf_counter() - started, report.geocoded, report.unplaced)
"""


def write_files(directory: Path, rows: int, seed: int) -> tuple[Path, Path]:
    rng = random.Random(seed)
    town = build_town()
    corpus = []
    round_seed = seed
    while len(corpus) < rows:
        round_seed += 1
        corpus += address_corpus(town, min(5_000, rows - len(corpus)), seed=round_seed)
    addresses, points = directory / "direcciones.csv", directory / "coordenadas.csv"
    head = ["external_ref", "source", "category", "occurred_at"]
    with addresses.open("w", newline="") as a, points.open("w", newline="") as p:
        wa, wp = csv.writer(a), csv.writer(p)
        wa.writerow([*head, "address"])
        wp.writerow([*head, "lon", "lat", "precision", "address"])
        for i, item in enumerate(corpus):
            row = [
                f"B-{i:07d}",
                "carabineros",
                "556",
                f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00",
            ]
            lon = item.lon if item.lon is not None else -72.776 + rng.uniform(-0.004, 0.004)
            lat = item.lat if item.lat is not None else -39.4515 + rng.uniform(-0.003, 0.003)
            wa.writerow([*row, item.text])
            wp.writerow([*row, lon, lat, "block", item.text])
    return addresses, points


def timed_import(code: Path, url: str, path: Path, *, geocode: bool) -> tuple[float, int, int]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, url, str(path), "1" if geocode else "0"],
        env={**os.environ, "PYTHONPATH": str(code)},
        check=True,
        capture_output=True,
        text=True,
        cwd=code,
    ).stdout.split()
    return float(out[-3]), int(out[-2]), int(out[-1])


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--db-url", default=URL)
    parser.add_argument(
        "--code", type=Path, action="append", help="checkout to import `app` from (repeatable)"
    )
    args = parser.parse_args()
    codes = [c.resolve() for c in (args.code or [ROOT])]
    print("carga al inicio:", os.getloadavg())
    session = prepare(args.db_url)
    engine = session.get_bind()
    session.close()
    assert isinstance(engine, Engine)
    times: dict[tuple[Path, str], list[float]] = {
        (c, kind): [] for c in codes for kind in ("coordenadas", "direcciones")
    }
    with tempfile.TemporaryDirectory() as tmp:
        addresses, points = write_files(Path(tmp), args.rows, args.seed)
        for round_no in range(args.rounds):
            for code in codes:
                seconds, _, _ = timed_import(code, args.db_url, points, geocode=False)
                times[code, "coordenadas"].append(seconds)
                print(f"  ronda {round_no + 1} {code} coordenadas: {seconds:.2f} s", flush=True)
                seconds, placed, queued = timed_import(code, args.db_url, addresses, geocode=True)
                times[code, "direcciones"].append(seconds)
                print(
                    f"  ronda {round_no + 1} {code} direcciones: {seconds:.2f} s "
                    f"({placed:,} ubicadas, {queued:,} en cola)",
                    flush=True,
                )
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE complaint CASCADE"))
    print(f"{args.rows:,} filas, {args.rounds} ronda(s):")
    for code in codes:
        points_s, addresses_s = times[code, "coordenadas"], times[code, "direcciones"]
        ratios = [a / p for a, p in zip(addresses_s, points_s, strict=True)]
        print(
            f"  {code}: coordenadas {_spread(points_s)} s, direcciones {_spread(addresses_s)} s;"
            f" razón direcciones/coordenadas de medianas "
            f"{statistics.median(addresses_s) / statistics.median(points_s):.2f}, por ronda "
            f"{_spread(ratios)} (meta: 3 o menos)"
        )
    print("carga al final:", os.getloadavg())


if __name__ == "__main__":
    main()
