"""Mixed traffic against `vigia serve --workers N` at rising concurrency; stops by itself.

    export VIGIA_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vigia_bench_load
    .venv/bin/vigia db upgrade && .venv/bin/vigia territory load data/barrios.geojson
    .venv/bin/vigia demo-data --years 2 --risk-factors 300
    .venv/bin/python -m bench.traffic --levels 10 50 150 300 --seconds 20

A week in Lanco, squeezed: field POSTs of risk factors (idempotency key, retried on 503 or
a lost connection), a unit's inbox, OGC item pages and tiles of complaints, and public
statistics (anonymous, one address per client through a trusted proxy, as behind nginx).
Every client is closed-loop without think time and honours Retry-After, like a polite app.

Traffic goes to 127.0.0.1 only; each level runs for --seconds and at most --max-requests,
then waits for requests in flight. It prints, per level, throughput and p50/p95/p99 per
request type, the share of answers that are 2xx or 503 with Retry-After, /health's worst
latency, the load average and the knee; then the time to full service after the load, the
two races (same idempotency key, same ETag) and the acknowledged writes against the rows.
It asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import signal
import ssl
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from app.identity import api_keys
from app.models import RiskFactorReport, Role
from bench.common import tile_of

ROOT = Path(__file__).resolve().parents[1]
PORT = 8821
BASE = f"http://127.0.0.1:{PORT}"
LOG = Path("/tmp/vigia-bench-traffic.log")
TOWN = (-72.775, -39.452)
MIX = {"post": 10, "inbox": 20, "ogc_items": 25, "tiles": 25, "public_stats": 20}
POST_NUMBERS = itertools.count(1)
MAX_ATTEMPTS = 5  # a field app gives up on a report after this many tries (it keeps it)


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcomes: Counter[str] = field(default_factory=Counter)
    by_type: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    acknowledged: set[str] = field(default_factory=set)
    health: list[float] = field(default_factory=list)
    seconds: float = 1.0
    samples: dict[str, str] = field(default_factory=dict)  # one body per unexpected outcome

    def note(self, kind: str, response: httpx.Response | None, elapsed: float) -> str:
        if response is None:
            outcome = "sin_respuesta"
        elif response.is_success:
            outcome = "2xx"
            self.latencies[kind].append(elapsed)
        elif response.status_code == 503 and "retry-after" in response.headers:
            outcome = "503_retry_after"
        elif response.status_code >= 500:
            outcome = f"{response.status_code}"
        else:
            outcome = f"{response.status_code}"
        if outcome not in ("2xx", "503_retry_after", "sin_respuesta") and response is not None:
            self.samples.setdefault(f"{kind} {outcome}", response.text[:300])
        self.outcomes[outcome] += 1
        self.by_type[kind][outcome] += 1
        return outcome


def report_body(i: int) -> dict[str, Any]:
    lon = TOWN[0] + random.uniform(-0.004, 0.004)
    lat = TOWN[1] + random.uniform(-0.003, 0.003)
    return {
        "type": "luminaria_apagada",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "severity": random.randint(1, 5),
        "description": f"Luminaria apagada, ronda de carga {i}.",
        "observed_at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat(),
        "reporting_unit": "Cuadrante 1 Lanco",
        "officer_id": "CB-12345",
        "attributes": {"luminarias_afectadas": 1, "poste_id": f"P-{i}"},
    }


class Scenario:
    def __init__(self, http: httpx.AsyncClient, keys: dict[str, str], tally: Tally) -> None:
        self.http = http
        self.keys = keys
        self.tally = tally

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    async def send(
        self, kind: str, method: str, url: str, **kwargs: Any
    ) -> tuple[httpx.Response | None, str]:
        started = time.perf_counter()
        try:
            response: httpx.Response | None = await self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            response = None
            self.tally.samples.setdefault(f"{kind} sin_respuesta", f"{type(exc).__name__} {exc}")
        outcome = self.tally.note(kind, response, time.perf_counter() - started)
        if outcome == "503_retry_after" and response is not None:
            await asyncio.sleep(min(float(response.headers["retry-after"]), 5.0))
        return response, outcome

    async def post(self, client_id: int) -> None:
        n = next(POST_NUMBERS)  # one key per report for the whole run, never reused
        key = f"traffic-{os.getpid()}-{n}"
        body = report_body(n)
        headers = {**self.auth("police"), "Idempotency-Key": key}
        for _ in range(MAX_ATTEMPTS):
            response, outcome = await self.send(
                "post", "POST", "/api/v1/risk-factors", json=body, headers=headers
            )
            if response is not None and response.is_success:
                self.tally.acknowledged.add(key)
                return
            if outcome not in ("503_retry_after", "sin_respuesta"):
                return

    async def one(self, client_id: int, kind: str | None = None) -> None:
        kind = kind or random.choices(list(MIX), weights=list(MIX.values()))[0]
        if kind == "post":
            await self.post(client_id)
        elif kind == "inbox":
            await self.send(
                "inbox",
                "GET",
                "/api/v1/risk-factors",
                params={"limit": 50},
                headers=self.auth("unit"),
            )
        elif kind == "ogc_items":
            lon = TOWN[0] + random.uniform(-0.02, 0.02)
            lat = TOWN[1] + random.uniform(-0.02, 0.02)
            bbox = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
            await self.send(
                "ogc_items",
                "GET",
                "/ogc/collections/complaints/items",
                params={"limit": 100, "bbox": bbox},
                headers=self.auth("planner"),
            )
        elif kind == "tiles":
            z = random.randint(12, 16)
            x, y = tile_of(TOWN[0] + random.uniform(-0.01, 0.01), TOWN[1], z)
            await self.send(
                "tiles",
                "GET",
                f"/ogc/collections/complaints/tiles/WebMercatorQuad/{z}/{y}/{x}",
                headers=self.auth("planner"),
            )
        else:
            forwarded = f"10.{client_id // 250}.{client_id % 250}.7"
            await self.send(
                "public_stats",
                "GET",
                "/api/v1/public/stats",
                params={"level": "barrio", "year": 2026},
                headers={"X-Forwarded-For": forwarded},
            )


HEALTH_POLLER = """
import sys, time, httpx
with httpx.Client(timeout=10) as http:
    while True:
        started = time.perf_counter()
        try:
            http.get(sys.argv[1])
            print(time.perf_counter() - started, flush=True)
        except httpx.HTTPError:
            print("inf", flush=True)
        time.sleep(0.2)
"""


def start_health_poller() -> subprocess.Popen[str]:
    """/health every 0.2 s from a process of its own: in a thread of this one it waited for
    the GIL behind the clients' event loop, and measured the load generator, not Vigía."""
    return subprocess.Popen(
        [sys.executable, "-c", HEALTH_POLLER, f"{BASE}/health"], stdout=subprocess.PIPE, text=True
    )


def stop_health_poller(poller: subprocess.Popen[str], tally: Tally) -> None:
    poller.terminate()
    out, _ = poller.communicate(timeout=10)
    tally.health = [float(line) for line in out.split()]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def level(keys: dict[str, str], clients: int, seconds: float, cap: int) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds

    tls = ssl.create_default_context()  # plain http, but httpx builds one per client: once

    async def client(i: int) -> None:
        # one connection per client, as separate devices have: a shared httpx pool of
        # hundreds of connections made the load generator itself the bottleneck
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=BASE, timeout=30, limits=limits, verify=tls) as http:
            scenario = Scenario(http, keys, tally)
            while time.monotonic() < deadline and sum(tally.outcomes.values()) < cap:
                await scenario.one(i)

    poller = start_health_poller()
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.monotonic() - started
    stop_health_poller(poller, tally)
    total = sum(tally.outcomes.values())
    polite = tally.outcomes["2xx"] + tally.outcomes["503_retry_after"]
    ok = tally.outcomes["2xx"]
    print(
        f"\n## {clients} clientes, {elapsed:.0f} s, carga {load_before:.1f} -> "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(
        f"respuestas {total}, 2xx {ok} ({ok / elapsed:.0f}/s), "
        f"2xx o 503+Retry-After {100 * polite / max(total, 1):.2f} %, "
        f"resultados {dict(tally.outcomes)}"
    )
    print(
        f"/health: peor {max(tally.health, default=0) * 1000:.0f} ms, "
        f"p99 {pct(tally.health, 0.99):.0f} ms, sobre 1 s: "
        f"{sum(1 for h in tally.health if h > 1)} de {len(tally.health)}"
    )
    print("| tipo | 2xx/s | p50 ms | p95 ms | p99 ms | resultados |")
    print("|---|---:|---:|---:|---:|---|")
    for kind in MIX:
        lat = tally.latencies.get(kind, [])
        print(
            f"| {kind} | {len(lat) / elapsed:.1f} | {pct(lat, 0.5):.0f} | "
            f"{pct(lat, 0.95):.0f} | {pct(lat, 0.99):.0f} | {dict(tally.by_type[kind])} |"
        )
    for what, sample in tally.samples.items():
        print(f"ejemplo {what}: {sample}")
    tally.seconds = elapsed
    return tally


async def recovery(keys: dict[str, str]) -> float:
    """Seconds from the end of the load until every read type answers 2xx again."""
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=BASE, timeout=10) as http:
        tally = Tally()
        scenario = Scenario(http, keys, tally)
        pending = set(MIX) - {"post"}
        while pending and time.monotonic() - started < 60:
            for kind in sorted(pending):
                before = tally.by_type[kind]["2xx"]
                await scenario.one(0, kind)
                if tally.by_type[kind]["2xx"] > before:
                    pending.discard(kind)
    return time.monotonic() - started


async def until_success(call: Callable[[], Awaitable[httpx.Response]]) -> list[int]:
    """One client's attempts: retried on 503 (after Retry-After) or a lost connection."""
    statuses = []
    for _ in range(20):
        try:
            response = await call()
        except httpx.HTTPError as exc:
            statuses.append(0)
            print(f"  sin respuesta: {type(exc).__name__}: {exc}")
            continue
        statuses.append(response.status_code)
        if response.status_code != 503:
            break
        await asyncio.sleep(min(float(response.headers.get("retry-after", 1)), 5.0))
    return statuses


async def races(keys: dict[str, str], engine: Any, police_id: int) -> None:
    police = {"Authorization": f"Bearer {keys['police']}"}
    limits = httpx.Limits(max_connections=110, max_keepalive_connections=110)
    async with httpx.AsyncClient(base_url=BASE, timeout=60, limits=limits) as http:
        gate = asyncio.Semaphore(100)
        body = report_body(0)
        key = f"carrera-{os.getpid()}"

        async def same_key() -> list[int]:
            async with gate:
                return await until_success(
                    lambda: http.post(
                        "/api/v1/risk-factors",
                        json=body,
                        headers={**police, "Idempotency-Key": key},
                    )
                )

        attempts = await asyncio.gather(*(same_key() for _ in range(1000)))
        finals = Counter(a[-1] for a in attempts)
        every = Counter(s for a in attempts for s in a)
        with Session(engine) as session:
            rows = session.scalar(
                select(func.count())
                .select_from(RiskFactorReport)
                .where(RiskFactorReport.reporter_key_id == police_id)
                .where(RiskFactorReport.description == body["description"])
            )
        print(
            f"\n## 1000 POST con la misma Idempotency-Key, 100 a la vez: finales {dict(finals)}, "
            f"todas las respuestas {dict(every)}, filas {rows}"
        )

        created = await http.post(
            "/api/v1/risk-factors",
            json=report_body(1),
            headers={**police, "Idempotency-Key": key + "-etag"},
        )
        url = created.headers["location"]
        etag = (await http.get(url, headers=police)).headers["etag"]
        patch_gate = asyncio.Semaphore(100)

        async def same_etag(i: int) -> list[int]:
            async with patch_gate:
                return await until_success(
                    lambda: http.patch(
                        url,
                        json={"description": f"Corrección número {i}."},
                        headers={**police, "If-Match": etag},
                    )
                )

        attempts = await asyncio.gather(*(same_etag(i) for i in range(100)))
        finals = Counter(a[-1] for a in attempts)
        every = Counter(s for a in attempts for s in a)
        final = (await http.get(url, headers=police)).json()
        final = final.get("properties", final)
        print(
            f"## 100 PATCH con el mismo ETag, 100 a la vez: finales {dict(finals)}, "
            f"todas {dict(every)}; descripción final: {final['description']!r}"
        )


def make_keys(engine: Any) -> tuple[dict[str, str], int]:
    keys = {}
    with Session(engine) as session:
        for role, institution, unit in (
            (Role.POLICE, "carabineros", None),
            (Role.PLANNER, "municipalidad", None),
            (Role.UNIT, "municipalidad", "Alumbrado público"),
        ):
            key, secret = api_keys.create_key(
                session,
                name=f"bench traffic {role.value}",
                role=role,
                institution=institution,
                unit=unit,
            )
            keys[role.value] = secret
            if role is Role.POLICE:
                police_id = key.id
        session.commit()
    return keys, police_id


def start_server(workers: int) -> subprocess.Popen[bytes]:
    """`vigia serve --workers N` in a session of its own, so stop_server reaches its workers."""
    env = {**os.environ, "VIGIA_TRUSTED_PROXIES": "127.0.0.1", "VIGIA_PORT": str(PORT)}
    vigia = Path(sys.executable).parent / "vigia"
    with LOG.open("wb") as log:
        process = subprocess.Popen(
            [str(vigia), "serve", "--workers", str(workers)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{BASE}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(process)
            raise RuntimeError(f"vigia serve no arrancó; ver {LOG}")
        time.sleep(0.3)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[10, 50, 150, 300])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--max-requests", type=int, default=50_000, help="per level")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-races", action="store_true")
    args = parser.parse_args()
    url = os.environ["VIGIA_DATABASE_URL"]
    assert "127.0.0.1" in url or "localhost" in url, "solo bases locales"
    engine = create_engine(url)
    keys, police_id = make_keys(engine)
    server = start_server(args.workers)
    try:
        asyncio.run(run(args, keys, engine, police_id))
    finally:
        stop_server(server)
    text = LOG.read_text(errors="replace")
    print(
        f"\nregistro del servidor: {text.count('QueuePool limit')} 'QueuePool limit', "
        f"{text.count('error inesperado')} 'error inesperado', "
        f"{text.count('sin conexiones libres')} 'sin conexiones libres' (503)"
    )


async def run(args: argparse.Namespace, keys: dict[str, str], engine: Any, police_id: int) -> None:
    acknowledged: set[str] = set()
    throughput: list[tuple[int, float, float]] = []
    for clients in args.levels:
        tally = await level(keys, clients, args.seconds, args.max_requests)
        acknowledged |= tally.acknowledged
        all_ok = [v for values in tally.latencies.values() for v in values]
        throughput.append((clients, tally.outcomes["2xx"] / tally.seconds, pct(all_ok, 0.95)))
    print(f"\nservicio completo {await recovery(keys):.2f} s después de la carga")
    knee = next(
        (
            throughput[i - 1][0]
            for i in range(1, len(throughput))
            if throughput[i][1] < 1.1 * throughput[i - 1][1]
        ),
        throughput[-1][0],
    )
    print(
        "rendimiento (clientes, 2xx/s, p95 ms): "
        + ", ".join(f"({c}, {t:.0f}, {p:.0f})" for c, t, p in throughput)
        + f"; codo: ~{knee} clientes"
    )
    with Session(engine) as session:
        rows = session.scalar(
            select(func.count())
            .select_from(RiskFactorReport)
            .where(RiskFactorReport.reporter_key_id == police_id)
        )
    print(f"escrituras confirmadas al cliente {len(acknowledged)}, filas en la base {rows}")
    if not args.no_races:
        await races(keys, engine, police_id)


if __name__ == "__main__":
    main()
