from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.schema import current_revisions, head_revisions
from app.schemas.health import HealthRead

router = APIRouter(tags=["salud"])


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
        with request.app.state.engine.connect() as connection:
            body["database"] = True
            body["postgis_version"] = connection.scalar(text("SELECT postgis_lib_version()"))
            current = current_revisions(connection)
    except SQLAlchemyError as exc:
        reason = "sin PostGIS" if body["database"] else "no se puede conectar"
        body["detail"] = (
            f"Base de datos: {reason} ({type(getattr(exc, 'orig', None) or exc).__name__})"
        )
        return JSONResponse(body, status_code=503, headers={"Retry-After": "30"})
    body["revision"] = sorted(current)
    body["migrations_at_head"] = set(current) == set(expected)
    if not body["migrations_at_head"]:
        body["detail"] = "Faltan migraciones: ejecute `vigia db upgrade`."
        return JSONResponse(body, status_code=503, headers={"Retry-After": "30"})
    body["status"] = "ok"
    return body
