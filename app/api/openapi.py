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
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
