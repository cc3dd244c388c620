"""How a request finds its route: routers that a path outside their prefix skips at once.

FastAPI matches a request against every route of every included router in turn, running
each route's regular expression on the whole path, and then matches it again inside the
router it picked. A tile under `/ogc` was tried against the 80 routes of `/api/v1` first:
about 150 µs of the event loop per request on a 2-core machine, more than the key check.
A router whose routes all share its prefix can refuse a path that does not start with it
without looking at them; the routes it does hold are matched exactly as before.

The reads map clients make by the hundred (a tile, an items page) also skip FastAPI's
per-request dependency resolution: `DirectRoute` runs the same dependencies, validation and
endpoint from a list compiled when the app is built (`serve_directly`, called in app.main).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.concurrency import contextmanager_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import (
    get_dependant,
    request_params_to_args,
)
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, request_response
from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope


class PrefixedRouter(APIRouter):
    """An `APIRouter` with a non-empty prefix, included in the app with no prefix of its own
    (its prefix is then where its routes live, whatever proxy path sits in front)."""

    def __init__(self, *, prefix: str, **kwargs: object) -> None:
        if not prefix:
            raise ValueError("PrefixedRouter needs a prefix")
        super().__init__(prefix=prefix, **kwargs)  # type: ignore[arg-type]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket") and not get_route_path(scope).startswith(
            self.prefix
        ):
            return Match.NONE, {}
        return super().matches(scope)


# --- the hottest reads, resolved without FastAPI's per-request dependency machinery --------


@dataclass(frozen=True)
class _Step:
    """One dependency of a route (or the endpoint itself, last), resolved in this order."""

    call: Callable[..., Any]
    dependant: Dependant
    kind: str  # "async", "sync", "asyncgen" or "gen"
    function_scope: bool  # a generator that ends before the response is sent
    takes: tuple[tuple[str | None, int], ...]  # (keyword, step) of its sub-dependencies


def _kind(call: Callable[..., Any]) -> str:
    for target in (call, getattr(call, "__call__", None)):  # noqa: B004 (instances)
        if inspect.isasyncgenfunction(target):
            return "asyncgen"
        if inspect.isgeneratorfunction(target):
            return "gen"
        if inspect.iscoroutinefunction(target):
            return "async"
    return "sync"


def _unsupported(dependant: Dependant) -> str | None:
    for feature in (
        "body_params",
        "cookie_params",
        "websocket_param_name",
        "response_param_name",
        "background_tasks_param_name",
        "security_scopes_param_name",
        "own_oauth_scopes",
        "concurrency",
    ):
        if getattr(dependant, feature):
            return feature
    return None


def compile_dependencies(
    root: Dependant, overrides: Mapping[Callable[..., Any], Callable[..., Any]]
) -> list[_Step]:
    """The route's dependency graph as a flat list of steps, sub-dependencies first, each
    call resolved once per request (FastAPI's `use_cache`); `overrides` as the app's
    `dependency_overrides`. A feature this does not handle is refused here, not at a request."""
    steps: list[_Step] = []
    seen: dict[tuple[Callable[..., Any], str | None], int] = {}

    def visit(dependant: Dependant) -> int:
        assert dependant.call is not None
        call = overrides.get(dependant.call, dependant.call)
        if call is not dependant.call:
            dependant = get_dependant(
                path=dependant.path or "", call=call, name=dependant.name, scope=dependant.scope
            )
        key = (call, dependant.scope)
        if dependant.use_cache and key in seen:
            return seen[key]
        if (feature := _unsupported(dependant)) is not None:
            raise ValueError(f"{getattr(call, '__name__', call)!r} usa {feature}")
        takes = tuple((sub.name, visit(sub)) for sub in dependant.dependencies)
        kind = _kind(call)
        steps.append(_Step(call, dependant, kind, dependant.scope == "function", takes))
        if dependant.use_cache:
            seen[key] = len(steps) - 1
        return len(steps) - 1

    visit(root)
    return steps


_FAILED = object()  # a step not run: its inputs failed validation


async def _solve(request: Request, steps: list[_Step]) -> Any:
    """Run the steps as FastAPI would (a step whose inputs failed validation is not called;
    every validation error is reported at once) and return the endpoint's result."""
    results: list[Any] = []
    errors: list[Any] = []
    scope = request.scope
    for step in steps:
        failed = False
        kwargs: dict[str, Any] = {}
        for name, index in step.takes:
            if results[index] is _FAILED:
                failed = True
            elif name is not None:
                kwargs[name] = results[index]
        d = step.dependant
        for fields, source in (
            (d.path_params, request.path_params),
            (d.query_params, request.query_params),
            (d.header_params, request.headers),
        ):
            if fields:
                values, problems = request_params_to_args(fields, source)
                kwargs.update(values)
                if problems:
                    errors.extend(problems)
                    failed = True
        if failed:
            results.append(_FAILED)
            continue
        for name in (d.request_param_name, d.http_connection_param_name):
            if name:
                kwargs[name] = request
        if step.kind == "async":
            results.append(await step.call(**kwargs))
        elif step.kind == "sync":
            results.append(await run_in_threadpool(step.call, **kwargs))
        else:
            stack_key = "fastapi_function_astack" if step.function_scope else "fastapi_inner_astack"
            stack: AsyncExitStack = scope[stack_key]
            if step.kind == "asyncgen":
                manager: Any = asynccontextmanager(step.call)(**kwargs)
            else:
                manager = contextmanager_in_threadpool(contextmanager(step.call)(**kwargs))
            results.append(await stack.enter_async_context(manager))
    if errors:
        raise RequestValidationError(errors)
    return results[-1]


class DirectRoute(Route):
    """An API route's twin for the hottest reads (OGC item pages, vector tiles): the same
    path, parameters, dependencies (the app's included), validation errors and endpoint, run
    from a list compiled once (`compile_dependencies`) instead of FastAPI's per-request
    resolution (0.7-1.0 ms of a tile or a page on a slow 2-vCPU machine; with this route the
    server spends ~0.5 ms less CPU per request: docs/benchmarks.md, OGC, "Sexta vuelta").
    Placed first in the app, it also skips the walk through the other routes. The API route
    it shadows stays where it was, for the OpenAPI document.
    """

    def __init__(self, app: FastAPI, path: str, api_route: APIRoute, dependant: Dependant):
        super().__init__(path, endpoint=api_route.endpoint, name=api_route.name)
        self.methods = set(api_route.methods or ())  # GET only, as the API route: no implicit HEAD
        self.api_route = api_route
        self.fastapi_app = app
        self.dependant = dependant
        self.steps = compile_dependencies(dependant, {})
        self.app = request_response(self._handle)

    async def _handle(self, request: Request) -> Response:
        request.scope["route"] = self.api_route  # as FastAPI sets it (reject_repeated_query)
        overrides = self.fastapi_app.dependency_overrides
        steps = compile_dependencies(self.dependant, overrides) if overrides else self.steps
        response = await _solve(request, steps)
        if not isinstance(response, Response):
            raise TypeError(f"{self.api_route.name} debe devolver una Response")
        return response


def serve_directly(app: FastAPI, *operation_ids: str) -> None:
    """Answer these operations (routes returning a `Response`) with a `DirectRoute` each,
    built from the route as the app includes it (full path, every dependency)."""
    found: dict[str, DirectRoute] = {}
    pending: list[Any] = list(app.router.routes)
    while pending:
        candidate = pending.pop()
        if hasattr(candidate, "effective_candidates"):  # an included router
            pending.extend(candidate.effective_candidates())
            continue
        # an included route as the app sees it (full path, every dependency), or one of its own
        route = (
            candidate
            if isinstance(candidate, APIRoute)
            else getattr(candidate, "original_route", None)
        )
        if isinstance(route, APIRoute) and route.operation_id in operation_ids:
            found[route.operation_id] = DirectRoute(app, candidate.path, route, candidate.dependant)
    missing = set(operation_ids) - set(found)
    if missing:
        raise ValueError(f"serve_directly: no existen {sorted(missing)}")
    app.router.routes[:0] = [found[operation_id] for operation_id in operation_ids]
