"""Importing complaints that arrive as addresses vs the same complaints with coordinates.

    flock /tmp/vigia-bench.lock python -m bench.geocode_import [--rows 100000] [--rounds 3]

Loads Lanco and the synthetic town's gazetteer (app/demo/town.py) into a database of its
own, writes `--rows` complaints twice, once with `address` only and once with `lon, lat,
precision` (the true point; a point in the town for the addresses it does not have), and
imports each file into an empty `complaint` table, alternating the two round by round. The
address-only import runs with geocode=True: staging, bulk geocoding in PostGIS, write-back,
then the same set-based insert. Prints each time, the ratio of medians and how many rows
were placed and queued.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, text

from app.complaints.ingest import import_complaints
from app.demo.town import address_corpus, build_town
from bench.geocode_accuracy import URL, prepare


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


def timed_import(engine: Engine, path: Path, *, geocode: bool) -> tuple[float, int, int]:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE complaint CASCADE"))
    started = time.perf_counter()
    with engine.begin() as conn:
        report = import_complaints(conn, path, fmt="csv", loaded_by="bench", geocode=geocode)
    return time.perf_counter() - started, report.geocoded, report.unplaced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--db-url", default=URL)
    args = parser.parse_args()
    print("carga al inicio:", os.getloadavg())
    session = prepare(args.db_url)
    engine = session.get_bind()
    session.close()
    assert isinstance(engine, Engine)
    times: dict[str, list[float]] = {"coordenadas": [], "direcciones": []}
    with tempfile.TemporaryDirectory() as tmp:
        addresses, points = write_files(Path(tmp), args.rows, args.seed)
        for round_no in range(args.rounds):
            seconds, _, _ = timed_import(engine, points, geocode=False)
            times["coordenadas"].append(seconds)
            print(f"  ronda {round_no + 1} coordenadas: {seconds:.2f} s", flush=True)
            seconds, placed, queued = timed_import(engine, addresses, geocode=True)
            times["direcciones"].append(seconds)
            print(
                f"  ronda {round_no + 1} direcciones: {seconds:.2f} s "
                f"({placed:,} ubicadas, {queued:,} en cola)",
                flush=True,
            )
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE complaint CASCADE"))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"{args.rows:,} filas: coordenadas {med['coordenadas']:.2f} s, direcciones "
        f"{med['direcciones']:.2f} s; razón direcciones/coordenadas "
        f"{med['direcciones'] / med['coordenadas']:.2f} (meta: 3 o menos)"
    )
    print("carga al final:", os.getloadavg())


if __name__ == "__main__":
    main()
