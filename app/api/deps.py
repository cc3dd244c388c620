"""Reusable dependencies: the database session and the caller."""

import binascii
import logging
from base64 import b64decode
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import UnionType
from typing import Annotated, TypeVar, Union, get_args, get_origin

import anyio
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPBasic, HTTPBasicCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from app.api.admission import client_gone
from app.api.limits import client_ip, too_many
from app.audit import trail as audit
from app.errors import (
    BadRequest,
    ClientGone,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotAuthenticated,
)
from app.identity.api_keys import KEY_PREFIX, authenticate, cached_caller
from app.identity.caller import PUBLIC, Caller
from app.identity.key_cache import KeyCache
from app.identity.oidc import caller_from_token
from app.models import Role
from app.settings import OidcSettings, get_oidc_settings

log = logging.getLogger("vigia")
T = TypeVar("T")


def _end_transaction(session: Session, commit: bool) -> None:
    """Commit (or roll back) the request's transaction, which returns its connection."""
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise


def _finish(session: Session, commit: bool) -> None:
    """Commit (or roll back) and close: the request's one blocking step after its route."""
    try:
        _end_transaction(session, commit)
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request, committed once here when the route succeeds.

    Not if the client has gone meanwhile: its write would land with nobody told it did
    (and its retry would make a second one), so it is rolled back instead.

    Async, with the same unit of work as `app.db.unit_of_work`: opening a session does no
    I/O, so it happens on the event loop; the commit or rollback and the close run together
    in one worker thread, shielded so that a cancelled request still returns its connection.
    (As a sync generator it cost two thread-pool hops per request: enter and exit.)
    """
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    try:
        yield session
        if client_gone(request.scope):
            log.info("cliente desconectado: %s %s sin confirmar", request.method, request.url.path)
            raise ClientGone()
    except BaseException:
        await _end(session, False)
        raise
    await _end(session, True)


async def _end(session: Session, commit: bool) -> None:
    """`_finish` in a worker thread, shielded; inline when no transaction is open (a route
    that asked nothing of the database, such as a tileset document or a key answered from
    the cache, or one that ended its work with `in_worker`): then there is nothing to send
    and no connection to return, and the hop to the pool would cost more than the rest."""
    if not session.in_transaction():
        _finish(session, commit)
        return
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(_finish, session, commit)


async def in_worker(request: Request, session: Session, work: Callable[..., T], *args: object) -> T:
    """`work(*args)` and the end of the request's transaction in ONE worker-thread hop.

    For async routes whose work is blocking database I/O (OGC pages and tiles): the commit
    that `get_session` would make in a second hop is made here, right after the work, under
    the same rules (rolled back if the work fails or the client has gone), so it is still
    made before the response is sent. `get_session` then finds no open transaction and only
    closes the session. Not cancellable midway: like the commit, the thread always finishes
    and returns its connection.
    """

    def run() -> T:
        try:
            result = work(*args)
            if client_gone(request.scope):
                log.info(
                    "cliente desconectado: %s %s sin confirmar", request.method, request.url.path
                )
                raise ClientGone()
        except BaseException:
            _end_transaction(session, False)
            raise
        _end_transaction(session, True)
        return result

    return await run_in_threadpool(run)


# scope="function": commit before the response is sent, so a failed commit is reported.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_engine(request: Request) -> Engine:
    """The app's engine, for a route that opens its own connection (streamed pages)."""
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]

_bearer = HTTPBearer(
    auto_error=False,
    description="Clave de acceso de Vigía: `Authorization: Bearer vga_...`. Sin clave = público.",
)


class _BasicScheme(HTTPBasic):
    """Declares HTTP Basic in the OpenAPI; the header itself is read by `presented_key`
    (FastAPI's HTTPBasic answers a malformed header with its own 401 and a Basic challenge,
    which would make browsers prompt for a password and then send it ambiently)."""

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        return None


_basic = _BasicScheme(
    scheme_name="HTTPBasic",
    auto_error=False,
    description=(
        "Para clientes SIG de escritorio (QGIS, GDAL): la clave de Vigía como contraseña; "
        "el usuario se ignora (p. ej. `vigia`)."
    ),
)
AUTHORIZATION_FORMS = "'Bearer <clave>' o 'Basic' con la clave como contraseña"


def presented_key(header: str | None) -> str:
    """The key or token an Authorization header carries, "" if it carries none.

    `Bearer <token>`, or `Basic base64(usuario:clave)` with the key as the password (the
    user name is ignored), for desktop GIS that can send only Basic (QGIS, GDAL). Both reach
    `identify`, so rate limits, audit, revocation and the key cache are the same.
    """
    scheme, _, value = (header or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() == "basic":
        try:
            decoded = b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2].strip()
    return ""


def identify(session: Session, request: Request, token: str, oidc: OidcSettings) -> Caller:
    """Key or OIDC token -> caller; failed attempts count against the client's IP."""
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    # A hit proves the full secret (its digest matched a verified key's): no guess to
    # count, so neither the database nor the failure limiter is asked.
    if (
        cache is not None
        and token.startswith(KEY_PREFIX)
        and (cached := cached_caller(cache, token)) is not None
    ):
        request.state.caller = cached
        return cached
    limiter = getattr(request.app.state, "auth_failure_limiter", None)
    ip = client_ip(request.scope)
    if limiter is not None and (wait := limiter.retry_after(ip)) is not None:
        raise too_many(wait, "autenticaciones fallidas")
    try:
        if not token:
            raise InvalidCredentials(
                f"La cabecera Authorization debe tener la forma {AUTHORIZATION_FORMS}."
            )
        if oidc.enabled and not token.startswith(KEY_PREFIX):
            caller = caller_from_token(token, oidc)
        else:
            caller = authenticate(session, token, cache=cache)
    except InvalidCredentials:
        if limiter is not None:
            limiter.record(ip)
        raise
    request.state.caller = caller
    return caller


async def oidc_settings() -> OidcSettings:
    """Async so FastAPI resolves it inline instead of in the thread pool (runs per request)."""
    return get_oidc_settings()


async def get_caller(
    session: SessionDep,
    request: Request,
    oidc: Annotated[OidcSettings, Depends(oidc_settings)],
    _bearer_doc: Annotated[object, Depends(_bearer)],
    _basic_doc: Annotated[object, Depends(_basic)],
) -> Caller:
    """The caller behind the request's key or token, or the anonymous public.

    Async: the public and a key found in the cache are answered on the event loop (no I/O);
    only a lookup that may query the database or an identity provider takes a worker thread.
    """
    header = request.headers.get("authorization")
    if not header:
        caller = PUBLIC
    else:
        token = presented_key(header)
        cached = _cached(request, token)
        if cached is not None:
            caller = cached
        else:
            caller = await run_in_threadpool(identify, session, request, token, oidc)
    audit.bind(session, caller, request_id=getattr(request.state, "request_id", None))
    return caller


def _cached(request: Request, token: str) -> Caller | None:
    """The caller of a key the cache holds (no database, no failure limiter), else None."""
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    if cache is None or not token.startswith(KEY_PREFIX):
        return None
    caller = cached_caller(cache, token)
    if caller is not None:
        request.state.caller = caller
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_roles(*roles: Role) -> Callable[[Caller], Awaitable[Caller]]:
    """Dependency factory: the caller must hold one of `roles` (admins always pass)."""
    allowed = {*roles, Role.ADMIN}
    names = ", ".join(sorted(r.value for r in allowed))

    # async: no I/O here, so it runs inline instead of taking a thread-pool hop per request
    async def dependency(caller: CallerDep) -> Caller:
        if caller.is_public:
            raise NotAuthenticated(f"Esta operación requiere una clave con rol: {names}.")
        if caller.role not in allowed:
            raise Forbidden(
                f"El rol {caller.role} no puede hacer esta operación; se requiere: {names}."
            )
        return caller

    return dependency


# The types FastAPI reads from a repeated query key (`?type=a&type=b`); str and bytes are not.
_SEQUENCE_TYPES = (Sequence, set, frozenset)


def _is_sequence_type(candidate: object) -> bool:
    try:
        return (
            isinstance(candidate, type)
            and issubclass(candidate, _SEQUENCE_TYPES)
            and not issubclass(candidate, (str, bytes))
        )
    except TypeError:  # a parametrised generic is no class to test
        return False


def is_sequence_annotation(annotation: object) -> bool:
    """Whether a parameter so annotated takes a list of values (`list[str] | None`, ...)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return is_sequence_annotation(get_args(annotation)[0])
    if origin is Union or origin is UnionType:
        return any(is_sequence_annotation(arg) for arg in get_args(annotation))
    return _is_sequence_type(annotation) or _is_sequence_type(origin)


def _sequence_query_params(route: APIRoute) -> frozenset[str]:
    """Query parameters a route declares as lists (the only ones that may repeat)."""
    cached: frozenset[str] | None = getattr(route, "_vigia_list_params", None)
    if cached is not None:
        return cached
    names: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        names.update(
            f.alias
            for f in dependant.query_params
            if is_sequence_annotation(f.field_info.annotation)
        )
        stack.extend(dependant.dependencies)
    found = frozenset(names)
    route._vigia_list_params = found  # type: ignore[attr-defined]
    return found


async def reject_repeated_query(request: Request) -> None:
    """`?barrio=a&barrio=b` on a single-valued parameter is ambiguous: say so, don't guess."""
    counts = Counter(key for key, _ in request.query_params.multi_items())
    repeated = [key for key, n in counts.items() if n > 1]
    if not repeated:
        return
    route = request.scope.get("route")
    allowed = _sequence_query_params(route) if isinstance(route, APIRoute) else frozenset()
    bad = sorted(key for key in repeated if key not in allowed)
    if bad:
        raise InvalidInput(
            f"Parámetro repetido: {', '.join(bad)}; se espera un solo valor.",
            errors=[
                {"field": key, "location": "query", "reason": "parámetro repetido"} for key in bad
            ],
        )


# query names under which clients (Open311 apps, ArcGIS, tile libraries) put keys in URLs
KEY_QUERY_NAMES = ("api_key", "apikey", "key", "access_token", "token")


async def reject_key_in_url(request: Request) -> None:
    """Keys never travel in a URL: they end up in proxy logs, browser history and Referer."""
    found = sorted(name for name in KEY_QUERY_NAMES if name in request.query_params)
    if found:
        raise BadRequest(
            "Las claves nunca van en la URL (quedan en registros e historiales): use la "
            f"cabecera Authorization ({AUTHORIZATION_FORMS}).",
            errors=[
                {"field": name, "location": "query", "reason": "clave en la URL"} for name in found
            ],
        )
