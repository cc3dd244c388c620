"""Hostile input stopped before any route parses it: body size, JSON shape, request rates.

Pure ASGI middleware, so an oversized body is refused from its Content-Length (or as soon
as the streamed bytes pass the limit) without being read, and a JSON body that is too deep
or carries NaN/Infinity never reaches pydantic. Answers are problem+json like the rest.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.json_keys import duplicate_keys
from app.api.problems import database_problem
from app.errors import BadRequest, InvalidInput, PayloadTooLarge, TooManyRequests, VigiaError
from app.settings import LimitSettings, RiskFactorSettings

PROBLEM_MEDIA_TYPE = b"application/problem+json"
# what multipart/form-data adds around a file: boundaries and part headers
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Requests without a key to these paths are not rate limited (monitoring, documentation).
UNLIMITED_PATHS = ("/health", "/docs", "/redoc", "/openapi.json")


@dataclass(frozen=True)
class UploadRoute:
    """A route that takes a file: its limit is a setting, enforced here and nowhere else."""

    pattern: re.Pattern[str]
    file_bytes: int

    @property
    def body_bytes(self) -> int:
        return self.file_bytes + MULTIPART_OVERHEAD_BYTES


def upload_routes(limits: LimitSettings, risk: RiskFactorSettings) -> list[UploadRoute]:
    """The routes that take files, each with the setting that bounds it."""
    return [
        UploadRoute(re.compile(r"^/api/v1/complaints/import$"), limits.import_bytes),
        UploadRoute(re.compile(r"^/api/v1/gazetteer$"), limits.import_bytes),
        UploadRoute(re.compile(r"^/api/v1/risk-factors/[^/]+/photos$"), risk.photo_max_bytes),
    ]


async def send_problem(scope: Scope, send: Send, error: VigiaError) -> None:
    body = error.to_problem()
    rid = (scope.get("state") or {}).get("request_id")
    if rid:
        body["request_id"] = rid
    payload = orjson.dumps(body)
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE),
        (b"content-length", str(len(payload)).encode()),
        *[(k.lower().encode(), v.encode()) for k, v in error.headers.items()],
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def json_depth(data: bytes) -> int:
    """Nesting depth of a JSON text, counted on the bytes (strings skipped), without parsing."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def size_text(size: int) -> str:
    """A limit as people read it: 1 MB, 512 KB, 19,1 MB (binary units, as the defaults)."""
    if size < 1024 * 1024:
        return f"{size // 1024} KB"
    mb = size / (1024 * 1024)
    return f"{mb:.0f} MB" if mb.is_integer() else f"{mb:.1f} MB".replace(".", ",")


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"El cuerpo de la solicitud supera el máximo de {size_text(limit)} para esta ruta."
    )


def _file_too_large(upload: UploadRoute) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"El archivo supera el máximo de {size_text(upload.file_bytes)} para esta ruta.",
        errors=[{"field": "file", "location": "body", "reason": "archivo demasiado grande"}],
    )


class BodyLimitMiddleware:
    """413 before parsing; JSON bodies checked for depth and NaN/Infinity before pydantic."""

    def __init__(
        self, app: ASGIApp, *, settings: LimitSettings, uploads: list[UploadRoute]
    ) -> None:
        self.app = app
        self.settings = settings
        self.uploads = uploads

    def upload_for(self, path: str) -> UploadRoute | None:
        return next((u for u in self.uploads if u.pattern.match(path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = self.upload_for(scope["path"])
        limit = upload.body_bytes if upload else self.settings.body_bytes
        refusal = _file_too_large(upload) if upload else _too_large(limit)
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            if not declared.isdigit():
                await send_problem(scope, send, BadRequest("Content-Length no es válido."))
            else:
                await send_problem(scope, send, refusal)
            return
        media = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        is_json = media == "application/json" or media.endswith("+json")
        if is_json and upload is None:
            await self._checked_json(scope, receive, send, limit)
            return
        await self._streamed(scope, receive, send, limit, refusal)

    async def _streamed(
        self, scope: Scope, receive: Receive, send: Send, limit: int, refusal: PayloadTooLarge
    ) -> None:
        """Count streamed bytes; past the limit, whatever the app answers becomes a 413."""
        received = 0
        exceeded = answered = False

        async def counting() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise refusal
            return message

        async def guarded(message: Message) -> None:
            nonlocal answered
            if not exceeded:
                await send(message)
            elif message["type"] == "http.response.start" and not answered:
                answered = True
                await self._answer_too_large(scope, send, refusal)

        try:
            await self.app(scope, counting, guarded)
        except PayloadTooLarge:
            if not answered:
                answered = True
                await self._answer_too_large(scope, send, refusal)

    async def _answer_too_large(self, scope: Scope, send: Send, refusal: PayloadTooLarge) -> None:
        if scope["path"].startswith("/open311/"):
            # GeoReport v2 has its own error format
            payload = orjson.dumps([{"code": 413, "description": refusal.detail}])
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return
        await send_problem(scope, send, refusal)

    async def _checked_json(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await send_problem(scope, send, _too_large(limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = self._json_problem(body) if body.strip() else None
        if problem is not None:
            await send_problem(scope, send, problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _json_problem(self, body: bytes) -> VigiaError | None:
        if json_depth(body) > self.settings.json_max_depth:
            return BadRequest(
                f"El JSON anida más de {self.settings.json_max_depth} niveles.",
                code="json_demasiado_profundo",
            )
        try:
            orjson.loads(body)  # strict RFC 8259: no NaN, no Infinity, valid UTF-8
        except orjson.JSONDecodeError as exc:
            fields = _non_finite_fields(body)
            if fields:
                return InvalidInput(
                    f"La solicitud tiene datos inválidos en: {', '.join(fields)}.",
                    errors=[
                        {"field": f, "location": "body", "reason": _NON_FINITE} for f in fields
                    ],
                )
            return InvalidInput(
                f"El cuerpo no es JSON válido: {exc.msg}.",
                errors=[{"field": "cuerpo", "location": "body", "reason": "JSON mal formado"}],
                code="json_invalido",
            )
        if repeated := duplicate_keys(body):
            return InvalidInput(
                f"El JSON repite la clave: {', '.join(repeated)}; cada clave debe ir una vez.",
                errors=[
                    {"field": k, "location": "body", "reason": "clave repetida"} for k in repeated
                ],
                code="clave_repetida",
            )
        return None


_NON_FINITE = "debe ser un número finito (no NaN ni infinito)"


class _Constant:
    """Stands for a NaN/Infinity token while locating where they are."""


def _non_finite_fields(body: bytes) -> list[str]:
    """Dotted paths of NaN/Infinity tokens in an otherwise valid JSON text (else [])."""
    try:
        data = json.loads(body, parse_constant=lambda _: _Constant())
    except ValueError:
        return []
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _Constant):
            found.append(path or "cuerpo")
        elif isinstance(value, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), v) for i, v in enumerate(value))
    return sorted(found)


class SlidingWindow:
    """At most `limit` events per key in the last `window_s` seconds (in memory, per process)."""

    MAX_KEYS = 100_000

    def __init__(
        self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window_s:
            events.popleft()
        return events

    def retry_after(self, key: str) -> int | None:
        """Seconds to wait if `key` is over its limit now, else None (records nothing)."""
        with self._lock:
            now = self.clock()
            events = self._recent(key, now)
            if len(events) < self.limit:
                return None
            return max(1, math.ceil(events[0] + self.window_s - now))

    def record(self, key: str) -> None:
        with self._lock:
            if len(self._events) >= self.MAX_KEYS:
                self._events.clear()  # crude, but bounded memory under a key-spraying attack
            self._recent(key, self.clock()).append(self.clock())

    def hit(self, key: str) -> int | None:
        """Record an event unless over the limit; the wait in seconds when over it."""
        wait = self.retry_after(key)
        if wait is None:
            self.record(key)
        return wait

    def hit_in_memory(self, key: str) -> tuple[bool, int | None]:
        """`hit`, answered here (in memory: always): (answered, wait)."""
        return True, self.hit(key)


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "desconocido"


def too_many(wait: int, what: str) -> TooManyRequests:
    return TooManyRequests(f"Demasiadas {what}; reintente en {wait} s.", retry_after=wait)


class PublicRateLimitMiddleware:
    """Requests without credentials share a per-IP budget (429 with Retry-After past it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(UNLIMITED_PATHS):
            limiter: Any = getattr(scope["app"].state, "public_limiter", None)
            anonymous = _header(scope, b"authorization") is None
            if limiter is not None and anonymous:
                ip = client_ip(scope)
                # answered on the event loop when no I/O is needed (a slot leased moments
                # ago); the shared limiter's round trip goes to a worker thread
                answered, wait = limiter.hit_in_memory(ip)
                try:
                    if not answered:
                        wait = await run_in_threadpool(limiter.hit, ip)
                except SQLAlchemyError as exc:
                    # outside the exception handlers here: answer the same 503 they would
                    rid = (scope.get("state") or {}).get("request_id")
                    problem = database_problem(exc, rid)
                    if problem is None:
                        raise
                    await send_problem(scope, send, problem)
                    return
                if wait is not None:
                    await send_problem(scope, send, too_many(wait, "solicitudes sin clave"))
                    return
        await self.app(scope, receive, send)
