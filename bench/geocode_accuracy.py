"""Geocoder accuracy and speed on the synthetic town (app/demo/town.py).

    flock /tmp/vigia-bench.lock python -m bench.geocode_accuracy [--addresses 5000] \\
        [--speed 20000] [--seed 14103] [--db-url postgresql+psycopg://.../vigia_bench_geocode]

Loads Lanco's territory and the town's gazetteer into a database of its own, geocodes the
address corpus in one bulk call and compares each result with the address's known place:

- right segment: a numbered address placed on the block its number belongs to;
- within 25 m: a numbered address (house number or km) placed within 25 m of the door;
- wrongly placed: placed at or above the acceptance score but wrong (an address the town
  does not have, another street, or over 100 m from the truth), over all addresses;
- per kind: placed share and median error.

Speed: the same bulk call on `--speed` addresses (the corpus repeated with other seeds),
addresses per second.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy.orm import Session

from app.demo.town import TrueAddress, address_corpus, build_town, place_features, street_features
from app.geocoding.loader import load_gazetteer
from app.geocoding.matcher import GeocodeResult, geocode_many
from app.geocoding.reader import read_gazetteer
from bench.common import bench_engine, load_territory_dir

ROOT = Path(__file__).resolve().parents[1]
URL = os.environ.get(
    "VIGIA_BENCH_GEOCODE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/vigia_bench_geocode"
)
COMUNA = "14103"
WRONG_M = 100.0


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    kx = 111_320.0 * math.cos(math.radians(lat1))
    return math.hypot((lon1 - lon2) * kx, (lat1 - lat2) * 111_320.0)


def prepare(url: str) -> Session:
    engine = bench_engine(url, fresh=True)
    with tempfile.TemporaryDirectory() as tmp:
        territory = Path(tmp) / "territory"
        territory.mkdir()
        (territory / "barrios.geojson").write_bytes(
            (ROOT / "data" / "barrios.geojson").read_bytes()
        )
        load_territory_dir(engine, territory)
        town = build_town()
        session = Session(engine)
        for name, doc in (("calles", street_features(town)), ("lugares", place_features(town))):
            path = Path(tmp) / f"{name}.geojson"
            path.write_text(json.dumps(doc), encoding="utf-8")
            load_gazetteer(
                session, read_gazetteer(path), comuna=COMUNA, source_name=name, loaded_by="bench"
            )
        session.commit()
    return session


def _in_place(name: str | None, truth: TrueAddress) -> bool:
    from shapely.geometry import Point

    from app.demo.town import ORIGIN

    if truth.lon is None or truth.lat is None:
        return False
    x, y = ORIGIN.to_metres(truth.lon, truth.lat)
    return any(n == name and polygon.contains(Point(x, y)) for n, _, polygon in build_town().places)


def judge(truth: TrueAddress, result: GeocodeResult) -> dict[str, object]:
    error = None
    if result.placed and truth.lon is not None and truth.lat is not None:
        error = metres(result.lon or 0, result.lat or 0, truth.lon, truth.lat)
    if not result.placed:
        wrong = False
    elif truth.kind == "unplaceable":
        wrong = True
    elif result.precision == "approximate":  # "in this villa or sector": is the door in it?
        wrong = not _in_place(result.matched, truth)
    elif truth.kind == "street":
        wrong = not (result.matched or "").startswith(str(truth.segment))
    else:
        wrong = error is None or error > WRONG_M
    return {
        "kind": truth.kind,
        "placed": result.placed,
        "error": error,
        "wrong": wrong,
        "segment_ok": result.placed and result.segment == truth.segment,
    }


def accuracy(session: Session, n: int, seed: int) -> dict[str, object]:
    corpus = address_corpus(build_town(), n, seed=seed)
    results = geocode_many(session, [a.text for a in corpus], comuna=COMUNA)
    judged = [judge(t, r) for t, r in zip(corpus, results, strict=True)]
    numbered = [j for j in judged if j["kind"] == "number"]
    measured = [j for j in judged if j["kind"] in ("number", "km")]
    by_kind: dict[str, list[dict[str, object]]] = defaultdict(list)
    for j in judged:
        by_kind[str(j["kind"])].append(j)
    wrong_examples = [
        (t.text, t.kind, r.matched, r.score)
        for t, r, j in zip(corpus, results, judged, strict=True)
        if j["wrong"]
    ][:15]
    missed = [
        (t.text, r.score, r.candidates[0]["matched"] if r.candidates else None)
        for t, r, j in zip(corpus, results, judged, strict=True)
        if t.kind != "unplaceable" and not j["placed"]
    ][:15]
    return {
        "addresses": n,
        "right_segment": sum(bool(j["segment_ok"]) for j in numbered) / len(numbered),
        "within_25m": sum(
            1
            for j in measured
            if j["error"] is not None and float(j["error"]) <= 25  # type: ignore[arg-type]
        )
        / len(measured),
        "wrongly_placed": sum(bool(j["wrong"]) for j in judged) / len(judged),
        "by_kind": {
            kind: {
                "n": len(rows),
                "placed": round(sum(bool(r["placed"]) for r in rows) / len(rows), 4),
                "median_error_m": round(statistics.median(errors), 1) if errors else None,
            }
            for kind, rows in sorted(by_kind.items())
            for errors in [[float(r["error"]) for r in rows if r["error"] is not None]]  # type: ignore[arg-type]
        },
        "precision": dict(Counter(r.precision or "sin ubicar" for r in results)),
        "wrong_examples": wrong_examples,
        "missed_examples": missed,
    }


def speed(session: Session, n: int, seed: int) -> float:
    town = build_town()
    texts: list[str] = []
    round_seed = seed
    while len(texts) < n:
        round_seed += 1
        texts += [a.text for a in address_corpus(town, min(5_000, n - len(texts)), seed=round_seed)]
    started = time.perf_counter()
    results = geocode_many(session, texts, comuna=COMUNA)
    elapsed = time.perf_counter() - started
    assert len(results) == n
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=5_000)
    parser.add_argument("--speed", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=14103)
    parser.add_argument("--db-url", default=URL)
    args = parser.parse_args()
    print("carga:", os.getloadavg())
    session = prepare(args.db_url)
    report = accuracy(session, args.addresses, args.seed)
    for key in ("addresses", "right_segment", "within_25m", "wrongly_placed"):
        value = report[key]
        print(f"{key:16} {value:.4f}" if isinstance(value, float) else f"{key:16} {value}")
    print("por tipo:", json.dumps(report["by_kind"], ensure_ascii=False))
    print("precisión:", report["precision"])
    for example in report["wrong_examples"]:  # type: ignore[attr-defined]
        print("  mal ubicada:", example)
    for example in report["missed_examples"]:  # type: ignore[attr-defined]
        print("  sin ubicar:", example)
    rates = [speed(session, args.speed, args.seed + 1000 * r) for r in range(3)]
    print(
        f"velocidad: {statistics.median(rates):,.0f} direcciones/s "
        f"(mediana de 3: {[round(r) for r in rates]})"
    )
    print("carga:", os.getloadavg())


if __name__ == "__main__":
    main()
