"""Security headers on every response, and a Content-Security-Policy on every HTML page.

Pure ASGI (no BaseHTTPMiddleware): it only edits the response start message, so streamed
responses stay streamed. Pages carry no inline script, inline style or event handler: their
code and CSS are static files (`app/static/`), the libraries vendored from npm, so the policy
needs neither 'unsafe-inline' nor 'unsafe-eval'. A response that already sets a header (a
route with its own policy) keeps it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000; includeSubDomains"
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def basemap_origin(url_template: str | None) -> str | None:
    """The CSP source of an external basemap template ({s} subdomains become a wildcard)."""
    if not url_template or not url_template.startswith(("https://", "http://")):
        return None  # none, or served by Vigía itself ('self')
    parts = urlsplit(url_template.replace("{s}", "sub"))
    host = parts.netloc.replace("sub.", "*.", 1) if "{s}." in url_template else parts.netloc
    return f"{parts.scheme}://{host}"


def content_security_policy(*, basemap: str | None = None, style_nonce: str | None = None) -> str:
    """The pages' policy. `style_nonce` only for ReDoc (/redoc), which injects its CSS at run
    time (styled-components, each <style> tag carrying the response's nonce) and runs its
    search in a worker built from a blob: no 'unsafe-inline' anywhere."""
    images = "'self' data: blob:" + (f" {basemap}" if basemap else "")
    styles = f"'self' 'nonce-{style_nonce}'" if style_nonce else "'self'"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {styles}",
            *(("worker-src 'self' blob:",) if style_nonce else ()),
            f"img-src {images}",
            "font-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
        )
    )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, basemap_url: str | None = None) -> None:
        self.app = app
        self.csp = content_security_policy(basemap=basemap_origin(basemap_url))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", self.csp)
                if https:  # a browser ignores HSTS over http, and it must not pin a dev server
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
