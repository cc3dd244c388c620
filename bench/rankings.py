"""Ranking benchmark: end-to-end ranking vs the bare SQL aggregation; Gi* vs esda directly.

    python -m bench.tiers region                 # writes bench/data/region/
    python -m bench.rankings load region         # territory + complaints into the bench DB
    python -m bench.rankings run region          # prints times and ratios

The bench database is VIGIA_BENCH_DATABASE_URL (default: database `vigia_bench` on the
server of VIGIA_DATABASE_URL); `load` creates it when missing and migrates it. Tiers live
side by side in it (their comunas differ). Ratios, not assertions: see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import psycopg
from esda import G_Local
from libpysal.weights import W
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from app import migrations as schema
from app.complaints.ingest import import_complaints
from app.db import CUSTOM_PLANS, SESSION_SETTINGS, make_engine
from app.models import Comuna, RankingSnapshot
from app.rankings import compute_snapshot
from app.rankings.compute import period_for
from app.rankings.inputs import aggregation_params, aggregation_statement, unit_geometry
from app.scoring import HotSpotParams, contiguity_weights, getis_ord_star
from app.scoring.inputs import adjacency
from app.settings import DatabaseSettings, TerritorySettings
from app.territory import service as territory

DATA = Path(__file__).resolve().parent / "data"
PERIOD_END = date(2026, 10, 31)  # the tiers' complaints end on 2026-10-31
MONTHS = 12


def bench_url() -> str:
    explicit = os.environ.get("VIGIA_BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get(
        "VIGIA_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/vigia"
    )
    return make_url(base).set(database="vigia_bench").render_as_string(hide_password=False)


def _ensure_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def load(tier: str) -> None:
    url = bench_url()
    _ensure_database(url)
    engine = create_engine(url)
    schema.upgrade(engine)
    folder = DATA / tier
    started = time.perf_counter()
    for path in sorted((folder / "territory").glob("*.geojson")):
        with Session(engine) as session:
            parsed = territory.parse_territory(orjson.loads(path.read_bytes()), TerritorySettings())
            territory.load_territory(session, parsed)
            session.commit()
    print(f"territorio: {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    last = [0.0]

    def progress(stage: str, done: int, total: int | None) -> None:
        if time.perf_counter() - last[0] > 15:
            last[0] = time.perf_counter()
            print(f"  {stage}: {done:,}", flush=True)

    with Session(engine) as session:
        report = import_complaints(
            session,
            folder / "complaints.csv",
            fmt="csv",
            mode="skip-invalid",
            loaded_by="bench",
            progress=progress,
        )
        session.commit()
    print(
        f"denuncias: {report.inserted:,} nuevas, {report.unchanged:,} sin cambios, "
        f"{report.rejected:,} rechazadas en {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE complaint"))
    engine.dispose()


def _median_time(action: Callable[[], Any], repeat: int) -> float:
    action()  # warm-up: caches, imports, plans
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _tier_comunas(session: Session, tier: str) -> list[str]:
    codes = list(session.scalars(select(Comuna.code).order_by(Comuna.code)))
    if tier == "lanco":
        return [c for c in codes if c == "14103"]
    return [c for c in codes if c.startswith("9")]


def _psycopg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _plain_sql(level: str) -> str:
    compiled = aggregation_statement(level).compile(dialect=postgresql.psycopg.dialect())
    return str(compiled)


# A side that runs the ranking from another code tree (e.g. `git archive <commit> app`), in its
# own process so both versions of `app` can be timed round by round against the same database.
# It only imports what every version of the ranking has; it times compute + commit, as `ranking`.
_WORKER = """
import sys, time
from datetime import date
from sqlalchemy.orm import Session
from app.db import make_engine
from app.rankings import compute_snapshot
from app.settings import DatabaseSettings
engine = make_engine(DatabaseSettings(database_url=sys.argv[1]))
for line in sys.stdin:
    comuna, level, months, end, version = line.split()
    started, cpu = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        compute_snapshot(session, level=level, comuna=comuna, period_end=date.fromisoformat(end),
                         months=int(months), profile_name=None,
                         profile_version=None if version == "-" else int(version),
                         computed_by="bench")
        session.commit()
    print(time.perf_counter() - started, time.process_time() - cpu, flush=True)
"""


class Side:
    """The ranking of one code tree, timed in a worker process (`--side name=path`)."""

    def __init__(self, name: str, tree: Path, url: str) -> None:
        self.name = name
        env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tree,
        )

    def time(self, comuna: str, level: str, profile_version: int | None) -> tuple[float, float]:
        """(wall, CPU of the worker process) seconds of one ranking."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        version = "-" if profile_version is None else str(profile_version)
        self.process.stdin.write(f"{comuna} {level} {MONTHS} {PERIOD_END} {version}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            sys.exit(f"el lado {self.name} terminó sin responder")
        wall, cpu = answer.split()
        return float(wall), float(cpu)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def run(
    tier: str,
    repeat: int,
    level: str,
    profile_version: int | None = None,
    sides: list[tuple[str, Path]] | None = None,
    skip_gi: bool = False,
) -> None:
    url = bench_url()
    engine = make_engine(DatabaseSettings(database_url=url))  # as the service connects
    period = period_for(PERIOD_END, MONTHS)
    sql = _plain_sql(level)
    with Session(engine) as session:
        comunas = _tier_comunas(session, tier)
        complaints = session.scalar(text("SELECT count(*) FROM complaint"))
    if not comunas:
        sys.exit(f"el tier {tier} no está cargado: python -m bench.rankings load {tier}")
    print(f"tier {tier}: {len(comunas)} comuna(s), nivel {level}, período {period.label()}")
    print(f"denuncias en la base: {complaints:,}; repeticiones: {repeat} (mediana)")
    which = "la última" if profile_version is None else f"v{profile_version}"
    print(f"perfil por defecto del nivel, versión {which}; carga al empezar {_load()}")
    workers = [Side(name, tree, url) for name, tree in sides or []]
    names = [w.name for w in workers] or ["ranking"]
    if workers:
        print("lados: " + ", ".join(f"{name}={tree}" for name, tree in sides or []))

    def in_process(comuna: str) -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        with Session(engine) as session:
            compute_snapshot(
                session,
                level=level,
                comuna=comuna,
                period_end=PERIOD_END,
                months=MONTHS,
                profile_name=None,
                profile_version=profile_version,
                computed_by="bench",
            )
            session.commit()
        return time.perf_counter() - started, time.process_time() - cpu

    def rank(side: int, comuna: str) -> tuple[float, float]:
        if workers:
            return workers[side].time(comuna, level, profile_version)
        return in_process(comuna)

    # 1. ranking end to end (aggregation + scoring + store + commit) vs the bare SQL and the
    # floor (the SQL plus esda's Gi* on this comuna's units, nothing else), interleaved round by
    # round: SQL, every side (their order rotating), esda; medians per comuna, summed
    sql_total = esda_total = 0.0
    rank_total = dict.fromkeys(names, 0.0)
    cpu_total = dict.fromkeys(names, 0.0)  # Python CPU of the ranking process (wall: the rest)
    per_round: list[float] = []  # the second side over the first, per comuna and round
    per_round_cpu: list[float] = []
    units_total = 0
    with psycopg.connect(_psycopg_dsn(url)) as conn, Session(engine) as geo_session:
        for name, value in SESSION_SETTINGS.items():  # the same session settings as Vigía's
            conn.execute(f"SET {name} = {value}")
        conn.execute(f"SET {CUSTOM_PLANS}")  # as the ranking's aggregation runs
        conn.commit()
        for comuna in comunas:
            params = aggregation_params(comuna, period)
            geometry = unit_geometry(geo_session, level=level, comuna=comuna)
            local_w = W(
                adjacency(contiguity_weights(geometry)),
                id_order=list(geometry.index),
                silence_warnings=True,
            )
            dmcs = dict(conn.execute(_DMCS_BY_CODE.format(level=level), params).fetchall())
            y = np.array([float(dmcs.get(code, 0)) for code in geometry.index])
            rows = conn.execute(sql, params).fetchall()  # warm-up of every part
            for side in range(len(names)):
                rank(side, comuna)
            _direct_z(y, local_w, HotSpotParams())
            samples: dict[str, list[float]] = {name: [] for name in names}
            cpu_samples: dict[str, list[float]] = {name: [] for name in names}
            sql_samples, esda_samples = [], []
            for round_ in range(repeat):
                started = time.perf_counter()
                rows = conn.execute(sql, params).fetchall()
                sql_samples.append(time.perf_counter() - started)
                order = list(range(len(names)))
                order = order[round_ % len(order) :] + order[: round_ % len(order)]
                for side in order:
                    wall, cpu = rank(side, comuna)
                    samples[names[side]].append(wall)
                    cpu_samples[names[side]].append(cpu)
                started = time.perf_counter()
                _direct_z(y, local_w, HotSpotParams())
                esda_samples.append(time.perf_counter() - started)
                if len(names) == 2:
                    per_round.append(samples[names[1]][-1] / samples[names[0]][-1])
                    per_round_cpu.append(cpu_samples[names[1]][-1] / cpu_samples[names[0]][-1])
            sql_time = statistics.median(sql_samples)
            esda_time = statistics.median(esda_samples)
            sql_total += sql_time
            esda_total += esda_time
            units_total += len(rows)
            for name in names:
                rank_total[name] += statistics.median(samples[name])
                cpu_total[name] += statistics.median(cpu_samples[name])
            if len(comunas) <= 3:
                times = ", ".join(
                    f"{name} {statistics.median(samples[name]) * 1000:.1f} ms" for name in names
                )
                print(
                    f"  comuna {comuna}: {len(rows)} unidades, SQL {sql_time * 1000:.1f} ms, "
                    f"esda Gi* {esda_time * 1000:.1f} ms, {times}"
                )
    for worker in workers:
        worker.close()
    floor = sql_total + esda_total
    count = len(comunas)
    print(f"agregación SQL sola (psycopg): {sql_total * 1000:.0f} ms en total")
    print(
        f"piso: SQL + Gi* de esda por comuna (sin nada más) = {floor * 1000:.0f} ms "
        f"({floor * 1000 / count:.1f} ms por comuna); mejor razón posible contra la SQL = "
        f"{floor / sql_total:.2f}"
    )
    for name in names:
        total = rank_total[name]
        print(
            f"{name}: ranking de extremo a extremo {total * 1000:.0f} ms en total "
            f"({total * 1000 / count:.1f} ms por comuna; {units_total} unidades, {count} "
            f"ranking(s)); RAZÓN / SQL = {total / sql_total:.2f} (meta <= 1,5); "
            f"RAZÓN / piso = {total / floor:.2f} (meta <= 2); CPU de Python "
            f"{cpu_total[name] * 1000 / count:.1f} ms por comuna"
        )
    for label, ratios in (("tiempo", per_round), ("CPU", per_round_cpu)):
        if len(ratios) < 2:
            continue
        quartiles = statistics.quantiles(ratios, n=4)
        print(
            f"{label} {names[1]} / {names[0]} por comuna y ronda: mediana "
            f"{statistics.median(ratios):.2f} [p25-p75 {quartiles[0]:.2f}-{quartiles[2]:.2f}]"
            f", {len(ratios)} pares"
        )
    print(f"carga al terminar la parte 1: {_load()}")
    if skip_gi:
        engine.dispose()
        return

    # 2. Gi* through app.scoring vs esda.G_Local called directly, same weights and seed
    with Session(engine) as session:
        geometry = pd.concat(
            [unit_geometry(session, level=level, comuna=c) for c in comunas]
        ).sort_index()
        counts = pd.Series(
            dict(
                session.execute(
                    text(
                        "SELECT u.code, count(c.id) FROM micro_barrio u LEFT JOIN complaint c"
                        " ON c.micro_barrio_id = u.id AND c.occurred_at >= :start"
                        " AND c.occurred_at < :end WHERE u.code = ANY(:codes) GROUP BY u.code"
                    )
                    if level == "micro_barrio"
                    else text(
                        "SELECT u.code, count(c.id) FROM barrio u LEFT JOIN complaint c"
                        " ON c.barrio_id = u.id AND c.occurred_at >= :start"
                        " AND c.occurred_at < :end WHERE u.code = ANY(:codes) GROUP BY u.code"
                    ),
                    {
                        "start": aggregation_params(comunas[0], period)["start"],
                        "end": aggregation_params(comunas[0], period)["end"],
                        "codes": list(geometry.index),
                    },
                ).all()
            ),
            dtype=float,
        ).reindex(geometry.index, fill_value=0.0)
    codes = list(geometry.index)
    weights = W(adjacency(contiguity_weights(geometry)), id_order=codes, silence_warnings=True)
    params = HotSpotParams()
    y = counts.to_numpy()

    def vigia() -> None:
        getis_ord_star(counts, weights, params)

    def direct() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G_Local(
                y,
                weights,
                transform="B",
                star=True,
                permutations=params.permutations,
                seed=params.seed,
                n_jobs=1,
                keep_simulations=False,
            )

    gi_repeat = max(1, min(repeat, 5))
    ours = _median_time(vigia, gi_repeat)
    theirs = _median_time(direct, gi_repeat)
    same = np.allclose(
        getis_ord_star(counts, weights, params).z.reindex(codes).to_numpy(),
        np.nan_to_num(_direct_z(y, weights, params)),
    )
    print(
        f"Gi* ({len(codes)} unidades, {params.permutations} permutaciones): app.scoring "
        f"{ours * 1000:.0f} ms, esda directo {theirs * 1000:.0f} ms, "
        f"RAZÓN {ours / theirs:.2f} (meta <= 1,2); mismos z: {same}"
    )
    with Session(engine) as session:
        stored = session.scalar(select(text("count(*)")).select_from(RankingSnapshot))
    print(f"(rankings guardados en la base de benchmark: {stored})")
    engine.dispose()


# DMCS complaints of the period per unit code (the Gi* input's scale; timing only)
_DMCS_BY_CODE = """
SELECT u.code, count(c.id)
  FROM {level} u
  JOIN complaint c ON c.{level}_id = u.id AND c.occurred_at >= %(start)s AND c.occurred_at < %(end)s
  JOIN crime_category k ON k.code = c.category_code AND k.dmcs
 WHERE u.comuna_code = %(comuna)s
 GROUP BY u.code
"""


def _direct_z(y: np.ndarray, weights: W, params: HotSpotParams) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gi = G_Local(
            y,
            weights,
            transform="B",
            star=True,
            permutations=params.permutations,
            seed=params.seed,
            n_jobs=1,
            keep_simulations=False,
        )
    z = np.asarray(gi.Zs, dtype=float)
    islands = np.array([len(weights.neighbors[i]) == 0 for i in weights.id_order])
    return np.where(islands, 0.0, z)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["load", "run"])
    parser.add_argument("tier", choices=["lanco", "region", "nation"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--level", choices=["barrio", "micro_barrio"], default="micro_barrio")
    parser.add_argument(
        "--profile-version", type=int, default=None, help="1 = método 1; por defecto la última"
    )
    parser.add_argument(
        "--side",
        action="append",
        default=[],
        metavar="NOMBRE=RUTA",
        help="un árbol de código (con app/) cuyo ranking se mide en su propio proceso, "
        "intercalado ronda a ronda con los demás lados; p. ej. --side antes=/tmp/viejo --side "
        "ahora=.",
    )
    parser.add_argument("--skip-gi", action="store_true", help="omite la parte 2 (Gi* global)")
    args = parser.parse_args()
    if args.action == "load":
        load(args.tier)
    else:
        sides = [(n, Path(t)) for n, _, t in (item.partition("=") for item in args.side)]
        run(args.tier, args.repeat, args.level, args.profile_version, sides, args.skip_gi)


if __name__ == "__main__":
    main()
