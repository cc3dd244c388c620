"""Every response carries the security headers; every HTML page a strict CSP it complies with.

The pages are found from the application itself (every GET route without path parameters,
plus every static .html file), so a new page cannot be forgotten.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.security_headers import basemap_origin, content_security_policy
from app.web.map import STATIC_DIR

ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
}
KNOWN_PAGES = {
    "/",
    "/docs",
    "/redoc",
    "/reportar",
    "/estadisticas",
    "/static/index.html",
    "/static/docs.html",
}


def get_paths(app: Any) -> list[str]:
    """Every GET route without path parameters (FastAPI >= 0.160 wraps included routers)."""
    paths = set()
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for r in contexts() if contexts else [route]:
            path = getattr(r, "path", "")
            if "GET" in (getattr(r, "methods", None) or ()) and "{" not in path:
                paths.add(path)
    return sorted(paths)


def static_pages() -> list[str]:
    return sorted(f"/static/{p.relative_to(STATIC_DIR)}" for p in STATIC_DIR.rglob("*.html"))


def policy(header: str) -> dict[str, list[str]]:
    directives = [d.strip().split() for d in header.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


class InlineCode(HTMLParser):
    """What a strict CSP would block: inline <script>, <style>, style="", on*= handlers.

    A <script> of a type that is not JavaScript (the map's `application/json` config) is a
    data block: never run, so not code."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script":
            kind = (dict(attrs).get("type") or "text/javascript").lower()
            code = kind in ("text/javascript", "application/javascript", "module")
            self._in_script = code and "src" not in names
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag} {n}=" for n in names if n == "style" or n.startswith("on")]

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"<script>{data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def check_strict_csp(header: str, *, style_nonce: bool = False) -> None:
    """`style_nonce`: /redoc, whose injected <style> tags carry the response's nonce."""
    csp = policy(header)
    assert csp["script-src"] == ["'self'"]
    if style_nonce:
        assert csp["style-src"][0] == "'self'"
        assert len(csp["style-src"]) == 2
        assert re.fullmatch(r"'nonce-[A-Za-z0-9_-]{20,}'", csp["style-src"][1])
    else:
        assert csp["style-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert not any("unsafe" in source for sources in csp.values() for source in sources)


def test_every_html_page_has_a_strict_csp_and_no_inline_code(app: Any, client: TestClient) -> None:
    pages: dict[str, Any] = {}
    for path in get_paths(app) + static_pages():
        response = client.get(path)
        if response.headers.get("content-type", "").startswith("text/html"):
            pages[path] = response
    assert set(pages) >= KNOWN_PAGES, sorted(pages)
    for path, response in pages.items():
        assert response.status_code in (200, 503), (path, response.status_code)
        for name, value in ALWAYS.items():
            assert response.headers.get(name) == value, (path, name)
        check_strict_csp(response.headers["content-security-policy"], style_nonce=path == "/redoc")
        inline = InlineCode()
        inline.feed(response.text)
        assert inline.found == [], (path, inline.found)
        assert "strict-transport-security" not in response.headers  # served over http


def test_every_response_has_the_common_headers(app: Any, client: TestClient) -> None:
    """JSON, GeoJSON, CSV, problems, static files and 404s alike."""
    paths = [
        *get_paths(app),
        "/static/mapa.js",
        "/static/mapa.css",
        "/static/paginas.css",
        "/no-existe",
        "/api/v1/complaints",  # 401 problem
    ]
    for path in paths:
        response = client.get(path)
        for name, value in ALWAYS.items():
            assert response.headers.get(name) == value, (path, response.status_code, name)


def test_hsts_only_over_https(app: Any) -> None:
    with TestClient(app, base_url="https://testserver") as secure:
        response = secure.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    with TestClient(app) as plain:
        assert "strict-transport-security" not in plain.get("/health").headers


def test_redoc_styles_need_this_responses_nonce(client: TestClient) -> None:
    """ReDoc injects its CSS at run time: only <style> tags with the nonce of this response
    apply (a new one each time, handed to ReDoc in the page), never 'unsafe-inline'."""
    first, second = client.get("/redoc"), client.get("/redoc")
    nonces = [policy(r.headers["content-security-policy"])["style-src"][1] for r in (first, second)]

    assert nonces[0] != nonces[1]
    for response, nonce in zip((first, second), nonces, strict=True):
        assert f'content="{nonce[7:-1]}"' in response.text


def test_docs_page_loads_only_vendored_files(client: TestClient) -> None:
    page = client.get("/docs").text
    assert '<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js">' in page
    assert '<script src="/static/docs.js">' in page
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)  # nothing from elsewhere
    init = client.get("/static/docs.js")
    assert "javascript" in init.headers["content-type"]
    assert "/openapi.json" in init.text
    assert "validatorUrl: null" in init.text


@pytest.mark.parametrize(
    ("template", "source"),
    [
        (None, None),
        ("/teselas/{z}/{x}/{y}.png", None),  # served by Vigía: 'self'
        ("https://teselas.muni.example/{z}/{x}/{y}.png", "https://teselas.muni.example"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
    ],
)
def test_a_basemap_origin_is_allowed_for_images_only(
    template: str | None, source: str | None
) -> None:
    assert basemap_origin(template) == source
    csp = policy(content_security_policy(basemap=basemap_origin(template)))
    assert csp["img-src"] == ["'self'", "data:", "blob:", *([source] if source else [])]
    assert csp["connect-src"] == ["'self'"]
    check_strict_csp(content_security_policy(basemap=source))
