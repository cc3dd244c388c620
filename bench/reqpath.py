"""Small requests through two builds of Vigía side by side: the shell's overhead (issue 15).

    git -C /work/main archive <commit> | tar -x -C /tmp/vigia-before
    export VIGIA_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vigia_bench_h12
    flock /tmp/vigia-bench.lock .venv/bin/python -m bench.reqpath --before /tmp/vigia-before

Two single-worker uvicorn servers on the benchmark database (free loopback ports unless
given): "antes" runs the code of `--before` (a checkout of an older commit), "después" this
checkout. Both have the key cache on and a public budget no round exhausts (the limiter's
work is measured, never its 429). Round by round, each request on both servers, alternating
which server goes first:
  conformance  GET /ogc/conformance without a key (no data; pays the public limiter)
  keyed        GET /ogc/collections/complaints/tiles with a key (the key check, the session)
  complaints   GET /ogc/collections/complaints/items?limit=10 with a key
  micro        GET /ogc/collections/micro-barrios/items?limit=10 without a key
  tile-z11     GET a complaints tile at zoom 11 (aggregated) with a key
  tile-z16     GET a complaints tile at zoom 16 (points) with a key
The tiles are the ones over the busiest micro-barrio. It prints p50 with p25-p75 per request
and server, the ratio of the p50s, the median of the per-round differences, the CPU each
server spent per request (all its threads, from /proc/<pid>/task/*/schedstat: steadier than
the wall clock on a shared machine), and the load averages. It asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from app.identity import api_keys
from app.models import Role
from bench.common import BENCH_URL, bench_engine, busiest_micro_barrios, tile_of
from bench.keys import free_port, spread, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
SERVERS = ("antes", "después")
REQUESTS = ("conformance", "keyed", "complaints", "micro", "tile-z11", "tile-z16")


def cpu_ns(pid: int) -> int:
    """CPU time run so far by every thread of the process, in nanoseconds."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):  # a thread that just ended
            continue
    return total


def serve(url: str, port: int, code: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "VIGIA_DATABASE_URL": url,
        "VIGIA_KEY_CACHE_TTL_S": "60",
        "VIGIA_LIMIT_PUBLIC_REQUESTS": "1000000",
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--log-level", "warning"], env=env, cwd=code
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_URL)
    parser.add_argument("--before", type=Path, required=True, help="checkout del código antes")
    parser.add_argument("--port-before", type=int, default=0, help="0: a free port")
    parser.add_argument("--port-after", type=int, default=0, help="0: a free port")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    print(f"carga al inicio: {os.getloadavg()}")

    engine = bench_engine(args.database_url)
    with Session(engine) as session:
        _, secret = api_keys.create_key(
            session, name="bench reqpath", role=Role.PLANNER, institution="municipalidad"
        )
        session.commit()
        [(lon, lat)] = busiest_micro_barrios(session, 1)
    engine.dispose()

    ports = (args.port_before or free_port(), args.port_after or free_port())
    processes = [
        serve(args.database_url, ports[0], args.before.resolve()),
        serve(args.database_url, ports[1], ROOT),
    ]
    keyed = {"Authorization": f"Bearer {secret}"}
    paths: dict[str, tuple[str, dict[str, str] | None]] = {
        "conformance": ("/ogc/conformance", None),
        "keyed": ("/ogc/collections/complaints/tiles", keyed),
        "complaints": ("/ogc/collections/complaints/items?limit=10", keyed),
        "micro": ("/ogc/collections/micro-barrios/items?limit=10", None),
    }
    for z in (11, 16):
        x, y = tile_of(lon, lat, z)
        tile = f"/ogc/collections/complaints/tiles/WebMercatorQuad/{z}/{x}/{y}"
        paths[f"tile-z{z}"] = (tile, keyed)
    times: dict[tuple[str, str], list[float]] = {(s, r): [] for s in SERVERS for r in REQUESTS}
    cpu: dict[tuple[str, str], int] = {(s, r): 0 for s in SERVERS for r in REQUESTS}
    pids = dict(zip(SERVERS, (p.pid for p in processes), strict=True))
    try:
        clients = {
            s: httpx.Client(base_url=f"http://127.0.0.1:{p}")
            for s, p in zip(SERVERS, ports, strict=True)
        }
        for s, process in zip(SERVERS, processes, strict=True):
            wait_until_up(clients[s], process)
        for n in range(args.warmup + args.rounds):
            order = SERVERS if n % 2 == 0 else SERVERS[::-1]
            for request in REQUESTS:
                path, headers = paths[request]
                for s in order:
                    cpu_before = cpu_ns(pids[s])
                    started = time.perf_counter()
                    response = clients[s].get(path, headers=headers)
                    elapsed = (time.perf_counter() - started) * 1000
                    spent = cpu_ns(pids[s]) - cpu_before
                    if response.status_code != 200:
                        raise SystemExit(f"{s} {request}: {response.status_code} {response.text}")
                    if n >= args.warmup:
                        times[(s, request)].append(elapsed)
                        cpu[(s, request)] += spent
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)

    print(f"{args.rounds} rondas intercaladas (tras {args.warmup} de calentamiento)")
    for request in REQUESTS:
        before, after = times[("antes", request)], times[("después", request)]
        paired = statistics.median(a - b for a, b in zip(after, before, strict=True))
        ratio = statistics.median(after) / statistics.median(before)
        print(f"  {request:11} antes   {spread(before)}")
        print(f"  {'':11} después {spread(after)}")
        print(f"  {'':11} después/antes {ratio:.2f}; después - antes {paired:+.3f} ms por ronda")
        cpu_before, cpu_after = (cpu[(s, request)] / args.rounds / 1e6 for s in SERVERS)
        print(
            f"  {'':11} CPU del servidor por pedido: antes {cpu_before:.3f} ms, "
            f"después {cpu_after:.3f} ms ({cpu_after / cpu_before:.2f})"
        )
    print(f"carga al final: {os.getloadavg()}")


if __name__ == "__main__":
    main()
