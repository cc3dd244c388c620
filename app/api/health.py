"""Liveness and readiness in one cheap probe, answered outside the admission queue.

The probe runs on its own small engine (app.db.make_health_engine), so a service whose turns
and pooled connections are all taken still answers 200: busy is not dead. On a starved
machine even that probe can be slow, so the answer has a budget (PROBE_BUDGET_S): past it,
the last result is repeated if it is recent (and says how old it is); otherwise it is a 503.
"""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.api.schemas import HealthRead
from app.migrations import head_revisions

router = APIRouter(tags=["salud"])

PROBE_BUDGET_S = 0.6  # an orchestrator's probe gets its answer within a second
FIRST_PROBE_BUDGET_S = 3.0  # with no earlier result to repeat: connect (1 s) + queries
STALE_AFTER_S = 10.0  # a slower database than that is reported as not answering

# Two reads in one round trip; to_regclass keeps a database without migrations readable.
_PROBE = text("SELECT postgis_lib_version(), to_regclass('public.alembic_version') IS NOT NULL")
_REVISIONS = text("SELECT version_num FROM alembic_version")


# The probe's own thread: in anyio's shared pool it waited behind the request threads, and
# at 300 clients /health then took 1.1-1.3 s (docs/benchmarks.md, "Bajo carga").
_PROBE_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigia-health")


class _Slow(Exception):
    """The probe could not finish in its budget (slow database, or its connections busy)."""


def _probe(engine: Engine) -> tuple[dict[str, Any], int]:
    expected = sorted(head_revisions())
    body: dict[str, Any] = {
        "status": "error",
        "database": False,
        "migrations_at_head": False,
        "revision": [],
        "expected_revision": expected,
    }
    try:
        with engine.connect() as connection:
            body["database"] = True
            postgis, versioned = connection.execute(_PROBE).one()
            body["postgis_version"] = postgis
            current = set(connection.scalars(_REVISIONS)) if versioned else set()
    except PoolTimeout as exc:  # the other probe connection is still busy
        raise _Slow from exc
    except SQLAlchemyError as exc:
        reason = "sin PostGIS" if body["database"] else "no se puede conectar"
        body["detail"] = (
            f"Base de datos: {reason} ({type(getattr(exc, 'orig', None) or exc).__name__})"
        )
        return body, 503
    body["revision"] = sorted(current)
    body["migrations_at_head"] = current == set(expected)
    if not body["migrations_at_head"]:
        body["detail"] = "Faltan migraciones: ejecute `vigia db upgrade`."
        return body, 503
    body["status"] = "ok"
    return body, 200


def warm_up(state: Any) -> None:
    """Probe once at start-up: each worker opens its probe connection and has a result to
    repeat before the first orchestrator probe arrives (under load, connecting took > 1 s)."""
    try:
        body, status = _probe(state.health_engine)
    except _Slow:
        return
    state.health_last = (time.monotonic(), body, status)


def _answer(body: dict[str, Any], status: int) -> JSONResponse:
    headers = {"Retry-After": "30"} if status == 503 else None
    return JSONResponse(body, status_code=status, headers=headers)


@router.get(
    "/health",
    operation_id="health",
    response_model=HealthRead,
    responses={503: {"model": HealthRead, "description": "Base de datos caída o desactualizada"}},
)
async def health(request: Request) -> JSONResponse:
    """Estado del servicio: base de datos, versión de PostGIS y migraciones al día."""
    state = request.app.state
    last: tuple[float, dict[str, Any], int] | None = getattr(state, "health_last", None)
    budget = PROBE_BUDGET_S if last else FIRST_PROBE_BUDGET_S
    try:
        # async route on its own thread: it never waits behind the request threads; a probe
        # still running is awaited again, not queued behind (a dead database cannot pile them up)
        probe: asyncio.Future[tuple[dict[str, Any], int]] | None = getattr(
            state, "health_probe", None
        )
        loop = asyncio.get_running_loop()
        if probe is None or probe.done() or probe.get_loop() is not loop:
            probe = loop.run_in_executor(_PROBE_THREAD, _probe, state.health_engine)
            state.health_probe = probe
        body, status = await asyncio.wait_for(asyncio.shield(probe), budget)
    except (TimeoutError, _Slow):
        age = time.monotonic() - last[0] if last else None
        if last is None or age is None or age > STALE_AFTER_S:
            body = {
                "status": "error",
                "database": False,
                "migrations_at_head": False,
                "revision": [],
                "expected_revision": sorted(head_revisions()),
                "detail": f"La base de datos no respondió en {budget} s.",
            }
            return _answer(body, 503)
        body = {**last[1], "detail": f"Comprobación lenta: resultado de hace {age:.0f} s."}
        return _answer(body, last[2])
    state.health_last = (time.monotonic(), body, status)
    return _answer(body, status)
