"""Open311 GeoReport v2 (JSON), so existing Open311 clients can file and follow reports.

Errors follow the GeoReport convention (`[{"code": 404, "description": "..."}]`) rather
than problem+json, because that is what those clients parse.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError

from app.api.deps import SessionDep, identify, presented_key
from app.api.schemas import problem_responses
from app.api.strict import IsoDatetime
from app.api.validation_messages import spanish_reason
from app.errors import Forbidden, NotAuthenticated, VigiaError
from app.models import Role
from app.risk_factors.open311 import service as open311
from app.settings import RiskFactorSettings, get_oidc_settings, get_risk_settings


def _error(status: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status)


class Open311Route(APIRoute):
    """Render domain and validation errors in GeoReport v2's error format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except VigiaError as exc:
                fields = "; ".join(f"{p['field']}: {p['reason']}" for p in exc.errors)
                return _error(exc.status, f"{exc.detail} {fields}".strip())
            except DataError:
                return _error(400, "Un valor no es admisible (p. ej. un carácter NUL).")
            except RequestValidationError as exc:
                fields = "; ".join(
                    f"{'.'.join(str(x) for x in e['loc'][1:])}: {spanish_reason(e)}"
                    for e in exc.errors()
                )
                return _error(400, f"Parámetros inválidos: {fields}.")

        return route


router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"], route_class=Open311Route)

Jurisdiction = Annotated[
    str | None, Query(description="Código CUT de la comuna (opcional: una jurisdicción).")
]


class Open311ErrorRead(BaseModel):
    code: int = Field(description="El estado HTTP.")
    description: str = Field(description="Qué pasó, en español.")


def _open311_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """GeoReport v2's own error list (application/json) for errors the routes answer."""
    return {
        status: {"model": list[Open311ErrorRead], "description": "[{code, description}]"}
        for status in statuses
    }


# what the routes answer in GeoReport's format; limits (413, 429) stay problem+json
_ERRORS = {**_open311_errors(400, 401, 404, 422), **problem_responses(429)}


@router.get("/services.json", operation_id="open311Services", responses=_ERRORS)
def list_services(session: SessionDep, jurisdiction_id: Jurisdiction = None) -> JSONResponse:
    """Tipos de factor de riesgo como servicios Open311."""
    return JSONResponse(open311.services(session))


@router.get("/services/{service_code}.json", operation_id="open311Service", responses=_ERRORS)
def service_definition(
    session: SessionDep,
    service_code: Annotated[str, Path(max_length=60, description="Código del servicio.")],
    jurisdiction_id: Jurisdiction = None,
) -> JSONResponse:
    """Atributos del servicio (gravedad y los atributos propios del tipo)."""
    return JSONResponse(open311.service_definition(session, service_code))


@router.get("/requests.json", operation_id="open311Requests", responses=_ERRORS)
def list_requests(
    session: SessionDep,
    jurisdiction_id: Jurisdiction = None,
    service_request_id: Annotated[
        str | None, Query(max_length=4000, description="Ids separados por coma.")
    ] = None,
    service_code: Annotated[
        str | None, Query(max_length=1000, description="Códigos separados por coma.")
    ] = None,
    start_date: Annotated[IsoDatetime | None, Query(description="Desde (ISO 8601).")] = None,
    end_date: Annotated[IsoDatetime | None, Query(description="Hasta (ISO 8601).")] = None,
    status: Annotated[
        str | None, Query(pattern="^(open|closed)$", description="open o closed.")
    ] = None,
) -> JSONResponse:
    """Solicitudes con ubicación generalizada (micro-barrio), sin texto libre ni funcionario."""
    ids = None
    if service_request_id:
        ids = []
        for part in service_request_id.split(","):
            try:
                ids.append(uuid.UUID(part.strip()))
            except ValueError:
                continue
        if not ids:
            return JSONResponse([])
    return JSONResponse(
        open311.requests(
            session,
            ids=ids,
            service_codes=[c.strip() for c in service_code.split(",")] if service_code else None,
            status=status,
            start=start_date,
            end=end_date,
            comuna=jurisdiction_id,
        )
    )


@router.get("/requests/{request_id}.json", operation_id="open311Request", responses=_ERRORS)
def get_request(
    session: SessionDep,
    request_id: Annotated[str, Path(max_length=64, description="service_request_id.")],
    jurisdiction_id: Jurisdiction = None,
) -> JSONResponse:
    """Una solicitud: estado open/closed y status_notes."""
    return JSONResponse(open311.request(session, request_id))


async def form_fields(request: Request) -> dict[str, str]:
    """The form's text fields; Open311 sends attribute[code] keys no schema can list."""
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


@router.post(
    "/requests.json",
    operation_id="open311CreateRequest",
    status_code=201,
    responses={**_ERRORS, **_open311_errors(403, 409), **problem_responses(413, 415)},
)
def create_request(
    request: Request,
    session: SessionDep,
    form: Annotated[dict[str, str], Depends(form_fields)],
    settings: Annotated[RiskFactorSettings, Depends(get_risk_settings)],
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="Reintentos seguros (opcional).")
    ] = None,
) -> JSONResponse:
    """Presenta una solicitud (clave de policía o administración en api_key o Authorization).

    Campos de formulario: service_code, lat, long, description, account_id,
    attribute[codigo]=valor (attribute[severidad] de 1 a 5).
    """
    secret = form.get("api_key") or presented_key(request.headers.get("authorization"))
    if not secret:
        raise NotAuthenticated("Se requiere api_key (clave de policía o administración).")
    caller = identify(session, request, secret, get_oidc_settings())
    if caller.role not in (Role.POLICE, Role.ADMIN):
        raise Forbidden("Solo claves de policía o administración pueden presentar solicitudes.")
    body = open311.create_request(
        session, caller, form, idempotency_key=idempotency_key, settings=settings
    )
    return JSONResponse(body, status_code=201)
