"""Every error leaves Vigía as RFC 9457 application/problem+json, in Spanish."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.api.validation_messages import spanish_reason
from app.audit import trail as audit
from app.db import QUERY_CANCELED, unit_of_work
from app.errors import (
    Conflict,
    FieldProblem,
    InvalidInput,
    ServiceBusy,
    ServiceUnavailable,
    VigiaError,
)
from app.identity.caller import PUBLIC
from app.settings import get_admission_settings

log = logging.getLogger("vigia")

PROBLEM_MEDIA_TYPE = "application/problem+json"

_HTTP_CODES = {
    400: ("solicitud_invalida", "Solicitud inválida"),
    401: ("no_autenticado", "Se requiere una clave de acceso"),
    403: ("sin_permiso", "Sin permiso"),
    404: ("no_encontrado", "No encontrado"),
    405: ("metodo_no_permitido", "Método no permitido"),
    406: ("no_aceptable", "Formato de respuesta no disponible"),
    413: ("contenido_demasiado_grande", "Contenido demasiado grande"),
    415: ("tipo_de_contenido_no_soportado", "Tipo de contenido no soportado"),
    429: ("demasiadas_solicitudes", "Demasiadas solicitudes"),
}


def _field_problems(exc: RequestValidationError) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        location = (
            loc[0] if loc and loc[0] in {"body", "query", "path", "header", "cookie"} else None
        )
        path = loc[1:] if location else loc
        problem: FieldProblem = {
            "field": ".".join(path) or (location or "cuerpo"),
            "reason": spanish_reason(error),
        }
        if location:
            problem["location"] = location
        problems.append(problem)
    return problems


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route of this path answers (RFC 9110 15.5.6: a 405 lists them all).

    Each method is matched through the router itself, so path converters and routes split
    across routers count exactly as they do when a request is dispatched.
    """
    routes = request.app.router.routes
    found = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    return ", ".join(found)


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def problem_response(request: Request, error: VigiaError) -> JSONResponse:
    body = error.to_problem()
    if rid := request_id(request):
        body["request_id"] = rid
    return JSONResponse(
        body, status_code=error.status, headers=error.headers, media_type=PROBLEM_MEDIA_TYPE
    )


AUDITED_DENIALS = (401, 403, 429)


@contextmanager
def _denial_transaction(request: Request) -> Iterator[Session]:
    override = getattr(request.app.state, "audit_unit_of_work", None)  # tests: their session
    if override is not None:
        with override() as session:
            yield session
        return
    with unit_of_work(request.app.state.sessionmaker) as session:
        session.execute(text("SET LOCAL lock_timeout = '2s'"))
        yield session


def audit_denial(request: Request, error: VigiaError) -> None:
    """A refused credential or role is audited in its own short transaction (best effort).

    The request's own transaction has been rolled back by then, so the event would be lost
    with it. A lock timeout keeps a busy audit trail from stalling the error response.
    """
    caller = getattr(request.state, "caller", None) or PUBLIC
    try:
        with _denial_transaction(request) as session:
            audit.record(
                session,
                f"{request.method.lower()} {request.url.path}"[:60],
                "solicitud",
                outcome=audit.Outcome.DENIED,
                detail={"status": error.status, "code": error.instance_code},
                context=audit.AuditContext(caller=caller, request_id=request_id(request)),
            )
    except Exception:  # an audit hiccup must not turn a 401 into a 500
        log.exception("no se pudo auditar la denegación (request %s)", request_id(request))


def database_problem(exc: SQLAlchemyError, rid: str | None) -> VigiaError | None:
    """The 503 a database failure means for the client, or None if it is not one of those.

    One translation for the exception handlers and for the middlewares that touch the
    database outside them (rate limits): a full pool is "busy, retry", a statement cut by
    statement_timeout is "narrow the request", a lost connection is "database down".
    """
    if isinstance(exc, PoolTimeout):  # "QueuePool limit of size N overflow M reached"
        log.warning("sin conexiones libres en el pool (request %s)", rid)
        return ServiceBusy(
            "no hay conexiones libres a la base de datos",
            retry_after=get_admission_settings().retry_after_s,
        )
    if not isinstance(exc, DBAPIError):
        return None
    if getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED:  # statement_timeout
        log.warning("consulta cortada por tiempo (request %s): %s", rid, exc)
        return ServiceUnavailable(
            "La consulta superó el tiempo máximo por consulta "
            "(VIGIA_STATEMENT_TIMEOUT_MS). Acote la solicitud (bbox, fechas, límite) o "
            "intente más tarde.",
            code="consulta_demasiado_larga",
        )
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        log.error("base de datos no disponible (request %s): %s", rid, exc.orig)
        return ServiceUnavailable("La base de datos no está disponible. Intente más tarde.")
    return None


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(VigiaError)
    async def _vigia(request: Request, exc: VigiaError) -> JSONResponse:
        if exc.status in AUDITED_DENIALS:
            await run_in_threadpool(audit_denial, request, exc)
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _field_problems(exc)
        fields = ", ".join(p["field"] for p in problems)
        return problem_response(
            request,
            InvalidInput(f"La solicitud tiene datos inválidos en: {fields}.", errors=problems),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title = _HTTP_CODES.get(exc.status_code, ("error_http", "Error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No existe la ruta {request.url.path}."
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            detail = f"La ruta {request.url.path} no acepta {request.method}."
            if allow := allowed_methods(request):
                headers["Allow"] = allow
        body = {
            "type": f"urn:vigia:problema:{code}",
            "title": title,
            "status": exc.status_code,
            "detail": detail,
            "code": code,
        }
        if rid := request_id(request):
            body["request_id"] = rid
        return JSONResponse(
            body,
            status_code=exc.status_code,
            headers=headers,
            media_type=PROBLEM_MEDIA_TYPE,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _db_down(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        # both kinds always translate; the fallback only satisfies the type
        problem = database_problem(exc, request_id(request)) or ServiceUnavailable()
        return problem_response(request, problem)

    @app.exception_handler(DataError)
    async def _bad_value(request: Request, exc: DataError) -> JSONResponse:
        # a value PostgreSQL refuses (NUL byte, out-of-range number) that validation let by
        log.warning("valor rechazado por la base (request %s): %s", request_id(request), exc.orig)
        return problem_response(
            request,
            InvalidInput(
                "Un valor de la solicitud no es admisible (p. ej. un carácter NUL o un número "
                "fuera de rango).",
                code="valor_no_admisible",
            ),
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # a reference or uniqueness the services did not check first: the client's data
        log.warning("restricción violada (request %s): %s", request_id(request), exc.orig)
        if getattr(exc.orig, "sqlstate", None) == "23505":
            error: VigiaError = Conflict("Ya existe un registro con esos datos.", code="duplicado")
        else:
            error = InvalidInput(
                "La solicitud hace referencia a algo que no existe (p. ej. una comuna).",
                code="referencia_inexistente",
            )
        return problem_response(request, error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, SQLAlchemyError) and (
            problem := database_problem(exc, request_id(request))
        ):
            return problem_response(request, problem)
        log.exception("error inesperado (request %s)", request_id(request))
        return problem_response(
            request,
            VigiaError(
                "Ocurrió un error inesperado. Si se repite, informe el identificador de la "
                "solicitud (request_id) al administrador."
            ),
        )
