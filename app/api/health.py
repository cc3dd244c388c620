"""Liveness and readiness in one cheap probe, answered outside the admission queue.

It runs on its own one-connection engine (app.db.make_health_engine) with a 500 ms statement
timeout, so it answers within a second even when every turn and pooled connection of the
service is taken: 200 while the service is merely busy, 503 when the database is gone.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.schema import head_revisions
from app.schemas.health import HealthRead

router = APIRouter(tags=["salud"])

# Two reads in one round trip; to_regclass keeps a database without migrations readable.
_PROBE = text("SELECT postgis_lib_version(), to_regclass('public.alembic_version') IS NOT NULL")
_REVISIONS = text("SELECT version_num FROM alembic_version")


@router.get(
    "/health",
    operation_id="health",
    response_model=HealthRead,
    responses={503: {"model": HealthRead, "description": "Base de datos caída o desactualizada"}},
)
def health(request: Request) -> Any:
    """Estado del servicio: base de datos, versión de PostGIS y migraciones al día."""
    expected = sorted(head_revisions())
    body: dict[str, Any] = {
        "status": "error",
        "database": False,
        "migrations_at_head": False,
        "revision": [],
        "expected_revision": expected,
    }
    try:
        with request.app.state.health_engine.connect() as connection:
            body["database"] = True
            postgis, versioned = connection.execute(_PROBE).one()
            body["postgis_version"] = postgis
            current = set(connection.scalars(_REVISIONS)) if versioned else set()
    except SQLAlchemyError as exc:
        reason = "sin PostGIS" if body["database"] else "no se puede conectar"
        body["detail"] = (
            f"Base de datos: {reason} ({type(getattr(exc, 'orig', None) or exc).__name__})"
        )
        return JSONResponse(body, status_code=503, headers={"Retry-After": "30"})
    body["revision"] = sorted(current)
    body["migrations_at_head"] = current == set(expected)
    if not body["migrations_at_head"]:
        body["detail"] = "Faltan migraciones: ejecute `vigia db upgrade`."
        return JSONResponse(body, status_code=503, headers={"Retry-After": "30"})
    body["status"] = "ok"
    return body
