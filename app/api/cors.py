"""Cross-origin reads for web maps on other sites; keys only from allow-listed origins.

The rule (reasoning in docs/seguridad.md, "CORS"):

- A request WITHOUT an Authorization header gets `Access-Control-Allow-Origin: *` on
  GET/HEAD. What it reads is what anyone on the internet reads: Vigía keeps no cookie
  session and trusts no client address, so a browser holds no ambient credential that could
  make the answer differ from `curl`'s. `*` also tells the browser to send no credentials.
- A request WITH a key (Bearer or Basic) is answered with CORS headers only when its Origin
  is in `VIGIA_CORS_ORIGINS` (echoed, with `Vary: Origin`). A page elsewhere cannot make the
  browser send a key it does not itself hold; this keeps keys held by pages of the
  municipality's own sites.
- Preflights (OPTIONS with Access-Control-Request-Method) are answered here, never by the
  routes: allow-listed origins may use every method and `Authorization`; any other origin
  only GET/HEAD without `Authorization`.
- HTTP Basic from a browser page of a foreign origin is refused outright (403): Basic is the
  one scheme a browser may remember and attach by itself, so it is the one cross-site
  request forgery could ride on. Vigía never sends a Basic challenge, so browsers do not
  learn it, but a key typed into `https://u:clave@...` would be.

Pure ASGI, outside the rate limit and admission layers, so their 429/503 are readable too.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.limits import send_problem
from app.errors import Forbidden

PUBLIC_METHODS = "GET, HEAD"
KEYED_METHODS = "GET, HEAD, POST, PATCH, PUT, DELETE"
# headers a page may set on a public read (besides the CORS-safelisted ones)
PUBLIC_HEADERS = frozenset({"accept", "accept-language", "content-language", "if-none-match"})
KEYED_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match"
EXPOSED = "ETag, Location, Link, Retry-After, X-Request-Id, Content-Crs"
MAX_AGE_S = "600"


def _preflight_headers(
    origin: str, allowed: bool, method: str, asked: set[str]
) -> list[tuple[str, str]] | None:
    if allowed:
        return [
            ("access-control-allow-origin", origin),
            ("access-control-allow-methods", KEYED_METHODS),
            ("access-control-allow-headers", KEYED_HEADERS),
            ("access-control-max-age", MAX_AGE_S),
            ("vary", "Origin"),
        ]
    if method in ("GET", "HEAD") and asked <= PUBLIC_HEADERS:
        return [
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", PUBLIC_METHODS),
            ("access-control-allow-headers", ", ".join(sorted(PUBLIC_HEADERS))),
            ("access-control-max-age", MAX_AGE_S),
        ]
    return None


class CorsMiddleware:
    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        self.app = app
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if not origin:
            await self.app(scope, receive, send)
            return
        allowed = origin in self.origins
        method = scope["method"]
        asked_method = headers.get("access-control-request-method")
        if method == "OPTIONS" and asked_method:
            await self._preflight(send, origin, allowed, asked_method, headers)
            return
        authorization = headers.get("authorization")
        if authorization and not allowed and authorization.lower().startswith("basic"):
            await send_problem(
                scope,
                send,
                Forbidden(
                    f"El origen {origin} no puede enviar claves: una página web usa "
                    "'Authorization: Bearer' y su origen debe estar en VIGIA_CORS_ORIGINS.",
                    code="origen_no_permitido",
                ),
            )
            return
        if allowed:
            extra = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        elif not authorization and method in ("GET", "HEAD"):
            extra = [("Access-Control-Allow-Origin", "*")]
        else:
            extra = []
        if not extra:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in extra:
                    if name == "Vary":
                        out.add_vary_header(value)
                    else:
                        out[name] = value
                out["Access-Control-Expose-Headers"] = EXPOSED
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(
        self, send: Send, origin: str, allowed: bool, asked_method: str, headers: Headers
    ) -> None:
        asked = {
            h.strip().lower()
            for h in headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        }
        answer = _preflight_headers(origin, allowed, asked_method.upper(), asked)
        # refused: no Access-Control-* headers, so the browser blocks the request it asked for
        response = answer if answer is not None else [("vary", "Origin")]
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(k.encode(), v.encode()) for k, v in response],
            }
        )
        await send({"type": "http.response.body", "body": b""})
