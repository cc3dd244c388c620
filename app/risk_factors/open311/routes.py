"""Open311 GeoReport v2 (XML, the spec's default, and JSON), so existing Open311 clients can
discover the service, file reports and follow them.

Errors follow the GeoReport convention (`[{"code": 404, "description": "..."}]`, or
`<errors><error>...` in XML) rather than problem+json, because that is what those clients
parse, with the spec's statuses: 400 bad input, 403 missing or invalid key, 404 not found.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from app.api.deps import CallerDep, SessionDep, identify, presented_key
from app.api.routing import PrefixedRouter
from app.api.schemas import problem_responses
from app.api.strict import IsoDatetime
from app.api.validation_messages import spanish_reason
from app.errors import Forbidden, NotAuthenticated, NotFound, VigiaError
from app.models import Comuna, Role
from app.risk_factors.open311 import own, xml
from app.risk_factors.open311 import service as open311
from app.settings import RiskFactorSettings, get_oidc_settings, get_risk_settings

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-03T00:00:00-03:00"  # when this API last changed (discovery)
FORMATS = {"xml": xml.MEDIA_TYPE, "json": "application/json"}


def _format_of(request: Request) -> str:
    return "xml" if request.url.path.endswith(".xml") else "json"


def _respond(fmt: str, payload: Any, to_xml: Callable[[Any], bytes], status: int = 200) -> Response:
    if fmt == "xml":
        return Response(to_xml(payload), status_code=status, media_type=xml.MEDIA_TYPE)
    return JSONResponse(payload, status_code=status)


def _error(fmt: str, status: int, description: str) -> Response:
    return _respond(fmt, [{"code": status, "description": description}], xml.errors, status)


class Open311Route(APIRoute):
    """Render domain and validation errors in GeoReport v2's error format and statuses."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            fmt = _format_of(request)
            try:
                return await handler(request)
            except NotAuthenticated as exc:  # the spec's "api_key missing or invalid"
                return _error(fmt, 403, exc.detail or exc.title)
            except VigiaError as exc:
                status = 400 if exc.status == 422 else exc.status
                fields = "; ".join(f"{p['field']}: {p['reason']}" for p in exc.errors)
                return _error(fmt, status, f"{exc.detail} {fields}".strip())
            except DataError:
                return _error(fmt, 400, "Un valor no es admisible (p. ej. un carácter NUL).")
            except RequestValidationError as exc:
                fields = "; ".join(
                    f"{'.'.join(str(x) for x in e['loc'][1:])}: {spanish_reason(e)}"
                    for e in exc.errors()
                )
                return _error(fmt, 400, f"Parámetros inválidos: {fields}.")

        return route


router = PrefixedRouter(
    prefix="/open311/v2", tags=["Open311 GeoReport v2"], route_class=Open311Route
)

Format = Annotated[str, Path(pattern="^(json|xml)$", description="Formato: xml o json.")]


def jurisdiction(
    session: SessionDep,
    jurisdiction_id: Annotated[
        str | None,
        Query(max_length=5, description="Código CUT de una comuna cargada (opcional)."),
    ] = None,
) -> str | None:
    """The jurisdiction, which must be a comuna loaded in Vigía."""
    if jurisdiction_id is not None and session.get(Comuna, jurisdiction_id) is None:
        raise NotFound(
            f"jurisdiction_id {jurisdiction_id!r} no es una comuna cargada en Vigía.",
            code="jurisdiccion_no_encontrada",
        )
    return jurisdiction_id


Jurisdiction = Annotated[str | None, Depends(jurisdiction)]


class Open311ErrorRead(BaseModel):
    code: int = Field(description="El estado HTTP.")
    description: str = Field(description="Qué pasó, en español.")


def _open311_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """GeoReport v2's own error list (JSON or XML) for errors the routes answer."""
    return {
        status: {
            "model": list[Open311ErrorRead],
            "description": "[{code, description}] o <errors><error>",
            "content": {xml.MEDIA_TYPE: {}},
        }
        for status in statuses
    }


def _ok(description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {xml.MEDIA_TYPE: {}}}}


# what the routes answer in GeoReport's format; limits (413, 429) stay problem+json
_ERRORS = {**_open311_errors(400, 403, 404), **problem_responses(429)}


def _key_id(caller: Any) -> int | None:
    return None if caller.is_public else caller.key_id


@router.get(
    "/discovery.{fmt}",
    operation_id="open311Discovery",
    responses={**_ok("Descubrimiento"), **_ERRORS},
)
def discovery(request: Request, fmt: Format) -> Response:
    """Descubrimiento de servicio (endpoints, formatos, especificación)."""
    base = str(request.base_url).rstrip("/") + router.prefix
    document = {
        "changeset": CHANGESET,
        "contact": "Municipalidad (administración de Vigía); claves con `vigia apikey create`.",
        "key_service": "Solicite una clave de policía a la administración municipal de Vigía.",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": [FORMATS["xml"].split(";")[0], FORMATS["json"]],
            }
        ],
    }
    return _respond(fmt, document, xml.discovery)


@router.get(
    "/services.{fmt}", operation_id="open311Services", responses={**_ok("Servicios"), **_ERRORS}
)
def list_services(session: SessionDep, fmt: Format, jurisdiction_id: Jurisdiction) -> Response:
    """Tipos de factor de riesgo como servicios Open311."""
    return _respond(fmt, open311.services(session), xml.services)


@router.get(
    "/services/{service_code}.{fmt}",
    operation_id="open311Service",
    responses={**_ok("Definición del servicio"), **_ERRORS},
)
def service_definition(
    session: SessionDep,
    service_code: Annotated[str, Path(max_length=60, description="Código del servicio.")],
    fmt: Format,
    jurisdiction_id: Jurisdiction,
) -> Response:
    """Atributos del servicio (gravedad y los atributos propios del tipo)."""
    return _respond(fmt, open311.service_definition(session, service_code), xml.service_definition)


def _ids(raw: str | None) -> list[uuid.UUID] | None:
    if not raw:
        return None
    ids = []
    for part in raw.split(","):
        try:
            ids.append(uuid.UUID(part.strip()))
        except ValueError:
            continue
    return ids


@router.get(
    "/requests.{fmt}", operation_id="open311Requests", responses={**_ok("Solicitudes"), **_ERRORS}
)
def list_requests(
    session: SessionDep,
    caller: CallerDep,
    fmt: Format,
    jurisdiction_id: Jurisdiction,
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
) -> Response:
    """Solicitudes con ubicación generalizada (micro-barrio), sin texto libre ni funcionario;
    las de la propia clave (Authorization), completas."""
    ids = _ids(service_request_id)
    if ids == []:  # ids given, none of them a request id
        return _respond(fmt, [], xml.requests)
    found = own.visible_requests(
        session,
        _key_id(caller),
        ids=ids,
        service_codes=[c.strip() for c in service_code.split(",")] if service_code else None,
        status=status,
        start=start_date,
        end=end_date,
        comuna=jurisdiction_id,
    )
    return _respond(fmt, found, xml.requests)


@router.get(
    "/requests/{request_id}.{fmt}",
    operation_id="open311Request",
    responses={**_ok("Una solicitud"), **_ERRORS},
)
def get_request(
    session: SessionDep,
    caller: CallerDep,
    request_id: Annotated[str, Path(max_length=64, description="service_request_id.")],
    fmt: Format,
    jurisdiction_id: Jurisdiction,
) -> Response:
    """Una solicitud: estado open/closed y status_notes; completa para la clave que la
    presentó."""
    return _respond(fmt, own.visible_request(session, _key_id(caller), request_id), xml.requests)


async def form_fields(request: Request) -> dict[str, str]:
    """The form's text fields; Open311 sends attribute[code] keys no schema can list."""
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def _file(
    session: Session,
    request: Request,
    form: dict[str, str],
    settings: RiskFactorSettings,
    idempotency_key: str | None,
) -> tuple[list[dict[str, Any]], int]:
    secret = form.get("api_key") or presented_key(request.headers.get("authorization"))
    if not secret:
        raise NotAuthenticated("Se requiere api_key (clave de policía o administración).")
    caller = identify(session, request, secret, get_oidc_settings())
    if caller.role not in (Role.POLICE, Role.ADMIN):
        raise Forbidden("Solo claves de policía o administración pueden presentar solicitudes.")
    if form.get("jurisdiction_id"):
        jurisdiction(session, form["jurisdiction_id"])
    window = settings.open311_resubmit_window_s
    if idempotency_key is None and window > 0 and caller.key_id is not None:
        earlier, idempotency_key = own.earlier_submission(
            session, caller.key_id, form, datetime.now(UTC), window
        )
        if earlier is not None:
            notice = f"Ya recibida hace menos de {window // 60} min: es la misma solicitud."
            return [
                {"service_request_id": earlier, "service_notice": notice, "account_id": None}
            ], 200
    created = open311.create_request(
        session, caller, form, idempotency_key=idempotency_key, settings=settings
    )
    return created, 201


@router.post(
    "/requests.{fmt}",
    operation_id="open311CreateRequest",
    status_code=201,
    responses={
        201: {"description": "Solicitud creada", "content": {xml.MEDIA_TYPE: {}}},
        **_ok("La misma solicitud, ya recibida"),
        **_ERRORS,
        **problem_responses(413, 415),
    },
)
def create_request(
    request: Request,
    session: SessionDep,
    fmt: Format,
    form: Annotated[dict[str, str], Depends(form_fields)],
    settings: Annotated[RiskFactorSettings, Depends(get_risk_settings)],
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="Reintentos seguros (opcional).")
    ] = None,
) -> Response:
    """Presenta una solicitud (clave de policía o administración en api_key o Authorization).

    Campos de formulario: service_code, lat, long, description, address_string, account_id,
    jurisdiction_id, attribute[codigo]=valor (attribute[severidad] de 1 a 5). El mismo
    formulario enviado de nuevo por la misma clave dentro de la ventana
    (VIGIA_RISK_OPEN311_RESUBMIT_WINDOW_S) devuelve el service_request_id original (200).
    """
    body, status = _file(session, request, form, settings, idempotency_key)
    return _respond(fmt, body, xml.created, status)
