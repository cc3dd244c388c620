"""What an API key costs per request, with and without the key cache (issue 15).

    export VIGIA_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vigia_bench_h6
    flock /tmp/vigia-bench.lock .venv/bin/python -m bench.keys --rounds 1500

Two single-worker servers on the benchmark database (free loopback ports unless given):
one as deployed (key cache on), one with VIGIA_KEY_CACHE_TTL_S=0. Round by round, each
side once, in this order:
  unkeyed   GET /ogc/conformance without a key (reads no data; pays the public limiter)
  bare      GET /ogc/conformance with the key's header (no limiter, no verification)
  cached    GET /api/v1/me with the key, cache on
  uncached  GET /api/v1/me with the key, cache off (the other server)
It prints p50 with p25-p75 per side, the differences of the p50s and the median of the
per-round differences, and the load averages. It asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from app.identity import api_keys
from app.models import Role
from bench.common import BENCH_URL, bench_engine

ROOT = Path(__file__).resolve().parents[1]
SIDES = ("unkeyed", "bare", "cached", "uncached")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(url: str, port: int, *, cache: bool) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VIGIA_DATABASE_URL": url, "VIGIA_KEY_CACHE_TTL_S": "60" if cache else "0"}
    # a budget no round exhausts: the limiter's query is measured, never its 429
    env["VIGIA_LIMIT_PUBLIC_REQUESTS"] = "1000000"
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--log-level", "warning"], env=env, cwd=ROOT
    )


def wait_until_up(client: httpx.Client, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("el servidor de la prueba no arrancó")


def spread(ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=4)
    return f"p50 {statistics.median(ms):6.3f} ms  (p25-p75 {q[0]:.3f}-{q[2]:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_URL)
    parser.add_argument("--port-cached", type=int, default=0, help="0: a free port")
    parser.add_argument("--port-uncached", type=int, default=0, help="0: a free port")
    parser.add_argument("--rounds", type=int, default=1500)
    parser.add_argument("--warmup", type=int, default=100)
    args = parser.parse_args()
    print(f"carga al inicio: {os.getloadavg()}")

    engine = bench_engine(args.database_url)
    with Session(engine) as session:
        key, secret = api_keys.create_key(
            session, name="bench keys", role=Role.PLANNER, institution="municipalidad"
        )
        prefix = key.prefix
        session.commit()
    engine.dispose()

    ports = (args.port_cached or free_port(), args.port_uncached or free_port())
    processes = [
        serve(args.database_url, ports[0], cache=True),
        serve(args.database_url, ports[1], cache=False),
    ]
    keyed = {"Authorization": f"Bearer {secret}"}
    try:
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}") as cached_server,
            httpx.Client(base_url=f"http://127.0.0.1:{ports[1]}") as uncached_server,
        ):
            wait_until_up(cached_server, processes[0])
            wait_until_up(uncached_server, processes[1])
            requests = {
                "unkeyed": lambda: cached_server.get("/ogc/conformance"),
                "bare": lambda: cached_server.get("/ogc/conformance", headers=keyed),
                "cached": lambda: cached_server.get("/api/v1/me", headers=keyed),
                "uncached": lambda: uncached_server.get("/api/v1/me", headers=keyed),
            }
            times: dict[str, list[float]] = {side: [] for side in SIDES}
            for n in range(args.warmup + args.rounds):
                for side in SIDES:
                    started = time.perf_counter()
                    response = requests[side]()
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        raise SystemExit(f"{side}: {response.status_code} {response.text}")
                    if n >= args.warmup:
                        times[side].append(elapsed)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)

    print(f"{args.rounds} rondas intercaladas (tras {args.warmup} de calentamiento)")
    for side in SIDES:
        print(f"  {side:9} {spread(times[side])}")
    for keyed_side in ("cached", "uncached"):
        for floor in ("unkeyed", "bare"):
            p50_diff = statistics.median(times[keyed_side]) - statistics.median(times[floor])
            paired = statistics.median(
                a - b for a, b in zip(times[keyed_side], times[floor], strict=True)
            )
            print(
                f"  {keyed_side} - {floor}: {p50_diff:+.3f} ms (diferencia de p50), "
                f"{paired:+.3f} ms (mediana por ronda)"
            )
    print(f"clave {prefix}; carga al final: {os.getloadavg()}")


if __name__ == "__main__":
    main()
