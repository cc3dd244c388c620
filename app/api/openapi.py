"""Small corrections to FastAPI's generated OpenAPI document."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM = "application/problem+json"


def _problem_content_only(spec: dict[str, Any]) -> None:
    """Error responses are documented under application/problem+json alone.

    FastAPI files a `responses={...: {"model": Problem}}` schema under the route's own media
    type (application/json or application/geo+json); move it where clients will find it.
    """
    validation = "#/components/schemas/HTTPValidationError"
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                json_schema = content.get("application/json", {}).get("schema", {})
                if json_schema.get("$ref") == validation:
                    # FastAPI's default 422: Vigía answers it as a problem (app.api.problems)
                    response["content"] = {
                        PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }
                    continue
                if PROBLEM not in content:
                    continue
                schema = next(
                    (c["schema"] for k, c in content.items() if k != PROBLEM and "schema" in c),
                    None,
                )
                if schema is not None:
                    response["content"] = {PROBLEM: {"schema": schema}}


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_SHARED = {
    429: "Demasiadas solicitudes (presupuesto por IP o autenticaciones fallidas).",
    503: "Base de datos no disponible o consulta sobre el tiempo máximo.",
}
_WITH_BODY = {
    400: "JSON demasiado anidado.",
    413: "Cuerpo sobre el límite de tamaño.",
    422: "JSON inválido, con NaN/Infinity o con claves repetidas.",
}
_WITH_KEY = {401: "Clave de acceso o token no válidos."}


def _shared_answers(spec: dict[str, Any]) -> None:
    """Statuses the shared layers answer for any route, documented on every operation.

    The rate limiter, the body filter and the database handlers answer before or around a
    route (app.api.limits, app.api.problems), so no route declares them; without this they
    are statuses a client (or schemathesis) meets undocumented. Never replaces an entry a
    route documents itself (Open311 has its own error format).
    """
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            answers = dict(_SHARED)
            if "requestBody" in operation:
                answers |= _WITH_BODY
            if operation.get("security"):
                answers |= _WITH_KEY
            responses = operation.setdefault("responses", {})
            for status, description in answers.items():
                responses.setdefault(
                    str(status),
                    {"description": description, "content": {PROBLEM: {"schema": _PROBLEM_REF}}},
                )


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            _problem_content_only(spec)
            _shared_answers(spec)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
