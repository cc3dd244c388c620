"""How long an operator waits for `vigia`: each command in a fresh process, round by round.

    python -m bench.cli [--rounds 7] [--against /path/to/other/checkout] [--bulletin 2026-10]
                        [--venv /path/to/a/.venv] [--floor]

With `--against`, the same commands run from another checkout's `.venv/bin/vigia` (e.g. the
commit before a change) interleaved with this one, so load drift hits both sides alike.
With `--venv`, both sides run that virtualenv's `vigia` with PYTHONPATH set to their own
checkout (git worktrees that share one virtualenv).
With `--floor`, the floor of a database command is timed too, the same way: a process that
only imports the libraries every such command needs (typer, rich, pydantic-settings,
SQLAlchemy's ORM, psycopg) and runs one query.
Wall time and the child's CPU time (user + system) are printed: on a shared machine the CPU
time is the steadier of the two. The commands read the database of VIGIA_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


FLOOR = (
    "import os, typer, rich.table, pydantic_settings, sqlalchemy.orm, psycopg\n"
    "from sqlalchemy import create_engine, text\n"
    "engine = create_engine(os.environ['VIGIA_DATABASE_URL'])\n"
    "with engine.connect() as connection: connection.execute(text('SELECT 1'))\n"
)


def _run(vigia: Path, args: list[str], env: dict[str, str] | None) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    argv = (
        [str(vigia.parent / "python"), "-c", FLOOR] if args == ["<piso>"] else [str(vigia), *args]
    )
    subprocess.run(argv, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _summary(values: list[float]) -> str:
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return f"{statistics.median(values):6.2f} s ({q[0]:.2f}-{q[2]:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--against", type=Path, help="another checkout with its own .venv")
    parser.add_argument("--bulletin", help="also time `vigia report bulletin --month AAAA-MM`")
    parser.add_argument("--venv", type=Path, help="one virtualenv for both sides (worktrees)")
    parser.add_argument("--floor", action="store_true", help="also time the libraries' floor")
    options = parser.parse_args()

    checkouts = {"este": REPO}
    if options.against:
        checkouts["otro"] = options.against.resolve()
    sides = {
        side: (options.venv or root / ".venv") / "bin" / "vigia" for side, root in checkouts.items()
    }
    envs: dict[str, dict[str, str] | None] = {
        side: ({**os.environ, "PYTHONPATH": str(root)} if options.venv else None)
        for side, root in checkouts.items()
    }
    commands = {"--help": ["--help"], "apikey list": ["apikey", "list"]}
    if options.floor:
        commands["piso (bibliotecas)"] = ["<piso>"]
    if options.bulletin:
        commands["report bulletin"] = [
            "report",
            "bulletin",
            "--month",
            options.bulletin,
            "--format",
            "pdf",
        ]
    print(f"carga al inicio: {os.getloadavg()}")
    walls: dict[tuple[str, str], list[float]] = {}
    cpus: dict[tuple[str, str], list[float]] = {}
    for _ in range(options.rounds):
        for command, args in commands.items():
            for side, vigia in sides.items():
                wall, cpu = _run(vigia, args, envs[side])
                walls.setdefault((command, side), []).append(wall)
                cpus.setdefault((command, side), []).append(cpu)
    print(f"carga al final:  {os.getloadavg()}")
    print(f"{'comando':<18} {'lado':<5} {'reloj, mediana (p25-p75)':<28} CPU, mediana (p25-p75)")
    for command, side in walls:
        print(
            f"{command:<18} {side:<5} {_summary(walls[command, side]):<28} "
            f"{_summary(cpus[command, side])}"
        )
    if "otro" in sides:
        for command in commands:
            ratio = statistics.median(cpus[command, "este"]) / statistics.median(
                cpus[command, "otro"]
            )
            print(f"{command}: CPU este/otro = {ratio:.2f}")


if __name__ == "__main__":
    main()
