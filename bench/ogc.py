"""OGC API items and vector tiles: Vigía over HTTP vs its own SQL run directly vs tipg 1.6.1.

    python -m bench.tiers region
    VIGIA_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vigia_bench_h9 \\
        python -m bench.rankings load region
    python3 -m venv /tmp/tipg-venv && /tmp/tipg-venv/bin/pip install 'tipg==1.6.1' uvicorn
    flock /tmp/vigia-bench.lock python -m bench.ogc \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/vigia_bench_h9 \\
        --vigia-port 8891 --tipg-port 8892 --tipg-venv /tmp/tipg-venv --rounds 15

Vigía and tipg are each served by uvicorn (1 worker) in a subprocess on loopback; requests
are sequential (one client). The sides run interleaved round by round (Vigía, SQL, tipg,
Vigía, SQL, tipg, ...), so load drift on a shared machine lands on every side alike instead
of showing up as a ratio. "SQL" is the statement Vigía issues (built by the same service
code, with the same session settings), run with psycopg on a warm connection and fully
fetched; for a page that is not the last one, also the capped count of its matches that
Vigía runs for `numberMatched`. The HTTP floor is measured in the same rounds: a constant document
(`/ogc/conformance`: no database, no key) and a keyed request that reads no data
(`/ogc/collections/complaints/tiles`: the key check and the session only). "servicio" is
Vigía's own service call without HTTP (`items.read_page` / `tiles.render_tile` and the
commit, on an engine made by `app.db.make_engine`): the SQL plus what the service must add
to it (the audit event of sensitive rows and its commit, reading the rows in Python), so
Vigía minus servicio is the HTTP shell's share. `--before TREE` adds a side "antes": a
second Vigía served from another checkout of the code (e.g. `git worktree add /tmp/x
<commit>`), on `--before-port`, asked the same URLs in the same rounds.
"SQL+aud" (audited collections only) is the SQL Vigía must run for an audited read, run
directly: BEGIN, the same statements, the audit event through `audit_append` with the
response's detail (ids, count, surface) as issue 12 requires, COMMIT; so Vigía minus
SQL+aud minus the floor is what Python and HTTP add. Each figure is
the median of `--rounds` samples after one warm-up round, with p25-p75; a tile sample is the
mean over `--tiles-per-zoom` tiles (around the busiest micro-barrios) of one round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from app.audit import trail
from app.db import CUSTOM_PLANS, SESSION_SETTINGS, make_engine, make_sessionmaker
from app.identity import access, api_keys
from app.identity.caller import PUBLIC, Caller
from app.models import Role
from app.ogc import filters, items, tiles
from app.ogc.collections import REGISTRY
from app.settings import DatabaseSettings, TileSettings
from bench.common import busiest_micro_barrios, tile_of

ROOT = Path(__file__).resolve().parents[1]
ZOOMS = range(10, 17)
SIDES = ("vigia", "antes", "sql", "servicio", "tipg", "sql+aud")


def selected(name: str, only: str) -> bool:
    """Whether `--only` picks the case `name` (empty: all)."""
    wanted = [w for w in only.split(",") if w]
    return not wanted or any(
        name.endswith(w[:-1]) if w.endswith("$") else w in name for w in wanted
    )


@dataclass
class Case:
    name: str
    floor: str  # which measured floor a Vigía response pays: "conformance" or "keyed"
    calls: dict[str, list[Callable[[], object]]]  # side -> calls (one sample = their mean)
    samples: dict[str, list[float]] = field(default_factory=dict)


@contextmanager
def serve(argv: list[str], env: dict[str, str], health: str, cwd: Path = ROOT) -> Iterator[None]:
    process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd)
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


def spread(values: list[float]) -> tuple[float, float, float]:
    """(p25, p50, p75) in milliseconds."""
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0] * 1000, statistics.median(values) * 1000, q[2] * 1000


@dataclass
class Get:
    """One GET of a side, kept as data so the "antes" side can ask the same of another port."""

    http: httpx.Client
    target: str
    headers: dict[str, str] | None
    params: dict[str, object]

    def __call__(self) -> object:
        response = self.http.get(self.target, params=self.params, headers=self.headers)
        response.raise_for_status()
        return response.content

    def elsewhere(self, ours: str, theirs: str) -> Get:
        return Get(self.http, self.target.replace(ours, theirs), self.headers, self.params)


def run_rounds(cases: list[Case], rounds: int) -> None:
    for number in range(rounds + 1):  # round 0 warms up and is dropped
        for case in cases:
            # every other round the sides go in reverse order: no side always follows another
            order = list(case.calls.items())
            for side, calls in order[::-1] if number % 2 else order:
                elapsed = 0.0
                for call in calls:
                    started = time.perf_counter()
                    call()
                    elapsed += time.perf_counter() - started
                if number:
                    case.samples.setdefault(side, []).append(elapsed / len(calls))


def report(cases: list[Case], floors: dict[str, float]) -> None:
    print(
        f"{'caso':<30}{'Vigía ms (p25-p75)':>22}{'antes ms':>22}{'SQL ms':>20}{'servicio ms':>20}"
        f"{'tipg ms':>22}{'V/SQL':>7}{'V/(SQL+piso)':>14}{'V/(serv+piso)':>15}{'V/tipg':>8}"
        f"{'V/antes':>9}{'antes/tipg':>11}{'SQL+aud ms':>20}{'V/(SQL+aud+piso)':>18}"
    )
    for case in cases:
        if case.floor == "-":
            continue
        cells, med = [], {}
        for side in SIDES:
            if side not in case.samples:
                cells.append(f"{'-':>20}")
                continue
            low, mid, high = spread(case.samples[side])
            med[side] = mid
            cells.append(f"{mid:>8.2f} ({low:.2f}-{high:.2f})".rjust(20))
        ours, sql = med["vigia"], med.get("sql")
        floor = floors[case.floor]
        ratio = f"{ours / sql:>7.2f}" if sql else f"{'-':>7}"
        with_floor = f"{ours / (sql + floor):>14.2f}" if sql else f"{'-':>14}"
        service = med.get("servicio")
        with_service = f"{ours / (service + floor):>15.2f}" if service else f"{'-':>15}"
        vs_tipg = f"{ours / med['tipg']:>8.2f}" if "tipg" in med else f"{'-':>8}"
        before = med.get("antes")
        vs_before = f"{ours / before:>9.2f}" if before else f"{'-':>9}"
        before_tipg = f"{before / med['tipg']:>11.2f}" if before and "tipg" in med else f"{'-':>11}"
        audited = med.get("sql+aud")
        with_audit = f"{ours / (audited + floor):>18.2f}" if audited else f"{'-':>18}"
        print(
            f"{case.name:<30}{cells[0]:>22}{cells[1]:>22}{cells[2]:>20}{cells[3]:>20}"
            f"{cells[4]:>22}{ratio}{with_floor}{with_service}{vs_tipg}{vs_before}{before_tipg}"
            f"{cells[5]:>20}{with_audit}"
        )
    print("piso por HTTP (mismas rondas, mismo cliente):")
    for name, value in floors.items():
        print(f"  {name:<12}{value:>8.2f} ms")
    print("V/(SQL+piso): piso 'keyed' para pedidos con clave, 'conformance' para los públicos.")
    print(
        "SQL+aud: las mismas sentencias más las que Vigía debe agregar en una lectura auditada"
        " (issue 12): BEGIN, el evento por audit_append con el detalle de la respuesta, COMMIT."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("VIGIA_BENCH_DATABASE_URL"),
        help="base de datos del benchmark (por omisión VIGIA_BENCH_DATABASE_URL)",
    )
    parser.add_argument("--vigia-port", type=int, required=True)
    parser.add_argument("--tipg-port", type=int, required=True)
    parser.add_argument("--tipg-venv", type=Path, default=Path("/tmp/tipg-venv"))
    parser.add_argument(
        "--before", type=Path, default=None, help="otra copia del código: lado 'antes'"
    )
    parser.add_argument("--before-port", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tiles-per-zoom", type=int, default=3)
    parser.add_argument(
        "--only",
        default="",
        help="solo los casos cuyo nombre contiene alguno de estos (separados por coma; "
        "un '$' final exige que el nombre termine así: 'limit=10$')",
    )
    args = parser.parse_args()
    if not args.database_url:
        parser.error("falta --database-url (o VIGIA_BENCH_DATABASE_URL)")
    if args.before is not None and args.before_port is None:
        parser.error("--before necesita --before-port")
    url = args.database_url
    print(f"carga al inicio: {os.getloadavg()}", flush=True)
    engine = create_engine(url)
    with Session(engine) as session:
        _, secret = api_keys.create_key(
            session, name="bench ogc", role=Role.PLANNER, institution="municipalidad"
        )
        session.commit()
        # tiles around the busiest micro-barrios, so every zoom draws real data
        centres = busiest_micro_barrios(session, args.tiles_per_zoom)
    planner = Caller(role=Role.PLANNER)
    pg_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    # two warm connections with Vigía's session settings: one plans every run for its
    # values (as Vigía's aggregated tiles ask), one keeps PostgreSQL's default
    direct = {custom: psycopg.connect(pg_url, autocommit=True) for custom in (False, True)}
    for custom, connection in direct.items():
        for name, value in SESSION_SETTINGS.items():
            connection.execute(f"SET {name} = {value}")
        if custom:
            connection.execute(f"SET {CUSTOM_PLANS}")

    service_engine = make_engine(DatabaseSettings(database_url=url))
    service_sessions = make_sessionmaker(service_engine)

    def service_call(work: Callable[[Session], object]) -> Callable[[], object]:
        def call() -> object:
            with service_sessions() as session:
                result = work(session)
                session.commit()
            return result

        return call

    def sql_call(stmt: object, values: dict[str, object], custom: bool) -> Callable[[], object]:
        compiled = stmt.compile(engine)  # type: ignore[attr-defined]
        sql, params = str(compiled), compiled.construct_params(values)
        connection = direct[custom]
        return lambda: connection.execute(sql, params).fetchall()

    audited_direct = psycopg.connect(pg_url, autocommit=True)
    for name, value in SESSION_SETTINGS.items():
        audited_direct.execute(f"SET {name} = {value}")
    append = trail._APPEND_READ.compile(engine)  # type: ignore[attr-defined]
    append_sql = str(append)

    def audit_params(ids: list[object], count: int, detail: dict[str, object]) -> object:
        event = {"count": count, "ids": [str(i) for i in ids[: access.MAX_AUDITED_IDS]]}
        values = dict(
            zip(
                trail._FIELD_NAMES,
                (
                    None,
                    "bench",
                    "planner",
                    None,
                    access.SENSITIVE_COMPLAINTS.action,
                    "complaint",
                    None,
                    "ok",
                ),
                strict=True,
            )
        )
        values |= {"detail": json.dumps(event | detail), "nonce": str(uuid.uuid4()), "seal": None}
        return append.construct_params(values)

    def sql_audited_tile(
        stmt: object, values: dict[str, object], detail: dict[str, object], custom: bool
    ) -> Callable[[], object]:
        """The tile's statement, then its audit event if it drew sensitive rows, in one
        transaction: what Vigía's SQL is for an audited tile."""
        compiled = stmt.compile(engine)  # type: ignore[attr-defined]
        sql, params = str(compiled), compiled.construct_params(values)

        def call() -> object:
            with audited_direct.transaction():
                if custom:
                    audited_direct.execute(f"SET LOCAL {CUSTOM_PLANS}")
                row = audited_direct.execute(sql, params).fetchone()
                if row and row[2]:
                    audited_direct.execute(
                        append_sql, audit_params(list(row[3] or []), row[2], detail)
                    )
            return row

        return call

    def sql_audited_page(
        stmt: object, values: dict[str, object], count: object | None
    ) -> Callable[[], object]:
        """The page, the audit event of its sensitive rows, the count: in one transaction."""
        compiled = stmt.compile(engine)  # type: ignore[attr-defined]
        sql, params = str(compiled), compiled.construct_params(values)
        counting = None
        if count is not None:
            c_stmt, c_values = count  # type: ignore[misc]
            c_compiled = c_stmt.compile(engine)
            counting = (str(c_compiled), c_compiled.construct_params(c_values))

        def call() -> object:
            with audited_direct.transaction():
                rows = audited_direct.execute(sql, params).fetchall()
                ids = [r[1] for r in rows if r[2]]
                if ids:
                    audited_direct.execute(
                        append_sql,
                        audit_params(
                            ids, len(ids), {"surface": "ogc.items", "collection": "complaints"}
                        ),
                    )
                if counting:
                    audited_direct.execute(*counting).fetchall()
            return rows

        return call

    vigia_port, tipg_port = args.vigia_port, args.tipg_port
    vigia = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(vigia_port)]
    vigia += ["--workers", "1", "--log-level", "warning"]
    tipg_env = {
        "DATABASE_URL": pg_url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.complaint", "public.micro_barrio"]',
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    tipg = [str(args.tipg_venv / "bin" / "uvicorn"), "tipg.main:app", "--port", str(tipg_port)]
    tipg += ["--workers", "1", "--log-level", "warning"]
    v_root = f"http://127.0.0.1:{vigia_port}/ogc"
    t_root = f"http://127.0.0.1:{tipg_port}"
    keyed = {"Authorization": f"Bearer {secret}"}
    settings = TileSettings()
    # one client asks every round: lift the per-client limit of unkeyed requests (its hits
    # are shared in the database, so an earlier benchmark's minute would count too)
    env = {"VIGIA_DATABASE_URL": url, "VIGIA_LIMIT_PUBLIC_REQUESTS": "1000000"}
    with ExitStack() as stack:
        stack.enter_context(serve(vigia, env, f"http://127.0.0.1:{vigia_port}/health"))
        stack.enter_context(serve(tipg, tipg_env, f"{t_root}/healthz"))
        if args.before is not None:
            before = [*vigia[:5], str(args.before_port), *vigia[6:]]
            health = f"http://127.0.0.1:{args.before_port}/health"
            before_env = {**env, "PYTHONPATH": str(args.before)}
            stack.enter_context(serve(before, before_env, health, cwd=args.before))
        http = stack.enter_context(httpx.Client(timeout=120))

        def get(target: str, headers: dict[str, str] | None = None, **params: object) -> Get:
            return Get(http, target, headers, params)

        cases = [
            Case("piso conformance", "-", {"vigia": [get(f"{v_root}/conformance")]}),
            Case(
                "piso keyed", "-", {"vigia": [get(f"{v_root}/collections/complaints/tiles", keyed)]}
            ),
        ]
        for cid, table, who, headers in (
            ("complaints", "public.complaint", planner, keyed),
            ("micro-barrios", "public.micro_barrio", PUBLIC, None),
        ):
            floor = "keyed" if headers else "conformance"
            for limit in (10, 10_000):
                stmt, values = items.build_items_statement(
                    REGISTRY[cid], filters.ItemsQuery(limit=limit), who
                )
                page = filters.ItemsQuery(limit=limit)
                sql = [sql_call(stmt, values, False)]
                count = None
                # Not the last page: Vigía also counts the matches (`numberMatched`, capped
                # at items.NUMBER_MATCHED_CAP); that statement is part of its SQL too.
                if service_call(
                    lambda s, c=REGISTRY[cid], q=page, w=who: items.read_page(s, c, q, w)
                )().more:  # type: ignore[attr-defined]
                    count = items.build_count_statement(REGISTRY[cid], page, who)
                    sql.append(sql_call(*count, False))
                calls = {
                    "vigia": [get(f"{v_root}/collections/{cid}/items", headers, limit=limit)],
                    "sql": [lambda sql=sql: [call() for call in sql]],
                    "servicio": [
                        service_call(
                            lambda s, c=REGISTRY[cid], q=page, w=who: items.read_page(s, c, q, w)
                        )
                    ],
                    "tipg": [get(f"{t_root}/collections/{table}/items", limit=limit)],
                }
                if REGISTRY[cid].audited is not None:
                    calls["sql+aud"] = [sql_audited_page(stmt, values, count)]
                cases.append(Case(f"{cid} ítems limit={limit}", floor, calls))
        complaints = REGISTRY["complaints"]
        for z in ZOOMS:
            coords = [tile_of(lon, lat, z) for lon, lat in centres]
            stmt, aggregated = tiles.tile_statement(complaints, planner, z, settings)
            calls = {
                "vigia": [
                    get(f"{v_root}/collections/complaints/tiles/WebMercatorQuad/{z}/{x}/{y}", keyed)
                    for x, y in coords
                ],
                "sql": [sql_call(stmt, tiles.tile_params(z, x, y), aggregated) for x, y in coords],
                "servicio": [
                    service_call(
                        lambda s, z=z, x=x, y=y: tiles.render_tile(
                            s, complaints, planner, z, x, y, settings
                        )
                    )
                    for x, y in coords
                ],
                "tipg": [
                    get(f"{t_root}/collections/public.complaint/tiles/WebMercatorQuad/{z}/{x}/{y}")
                    for x, y in coords
                ],
                "sql+aud": [
                    sql_audited_tile(
                        stmt,
                        tiles.tile_params(z, x, y),
                        {
                            "surface": "ogc.tile",
                            "collection": "complaints",
                            "tile": f"{z}/{x}/{y}",
                            "aggregated": aggregated,
                        },
                        aggregated,
                    )
                    for x, y in coords
                ],
            }
            cases.append(Case(f"complaints tesela z{z}", "keyed", calls))
        z = 14
        coords = [tile_of(lon, lat, z) for lon, lat in centres]
        stmt, _ = tiles.tile_statement(REGISTRY["micro-barrios"], PUBLIC, z, settings)
        calls = {
            "vigia": [
                get(f"{v_root}/collections/micro-barrios/tiles/WebMercatorQuad/{z}/{x}/{y}")
                for x, y in coords
            ],
            "sql": [sql_call(stmt, tiles.tile_params(z, x, y), False) for x, y in coords],
            "servicio": [
                service_call(
                    lambda s, z=z, x=x, y=y: tiles.render_tile(
                        s, REGISTRY["micro-barrios"], PUBLIC, z, x, y, settings
                    )
                )
                for x, y in coords
            ],
            "tipg": [
                get(f"{t_root}/collections/public.micro_barrio/tiles/WebMercatorQuad/{z}/{x}/{y}")
                for x, y in coords
            ],
        }
        cases.append(Case(f"micro-barrios tesela z{z}", "conformance", calls))
        cases = [c for c in cases if c.floor == "-" or selected(c.name, args.only)]
        if args.before is not None:  # the same URLs, asked of the other code
            ours, theirs = f":{vigia_port}/", f":{args.before_port}/"
            for case in cases:
                calls = [call.elsewhere(ours, theirs) for call in case.calls["vigia"]]
                case.calls = {"vigia": case.calls["vigia"], "antes": calls, **case.calls}
        run_rounds(cases, args.rounds)

    with Session(engine) as session:
        session.execute(text("DELETE FROM api_key WHERE name = 'bench ogc'"))
        session.commit()
    for connection in direct.values():
        connection.close()
    service_engine.dispose()
    floors = {c.name.split()[1]: statistics.median(c.samples["vigia"]) * 1000 for c in cases[:2]}
    if args.before is not None:
        for case in cases[:2]:
            floor = spread(case.samples["antes"])[1]
            print(f"piso {case.name.split()[1]} del lado antes: {floor:.2f} ms")
    print(f"carga al final: {os.getloadavg()}; {args.rounds} rondas", flush=True)
    report(cases, floors)


if __name__ == "__main__":
    main()
