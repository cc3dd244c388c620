"""Application factory: `uvicorn app.main:app` or `vigia serve`."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import __version__
from app.api import health
from app.api.admission import AdmissionMiddleware, Gate
from app.api.cors import CorsMiddleware
from app.api.deps import reject_key_in_url, reject_repeated_query
from app.api.limits import BodyLimitMiddleware, PublicRateLimitMiddleware, upload_routes
from app.api.openapi import install_openapi
from app.api.problems import install_problem_handlers
from app.api.request_id import RequestIdMiddleware
from app.api.routers import api_router, ogc_router
from app.api.routing import serve_directly
from app.api.security_headers import SecurityHeadersMiddleware
from app.api.shared_limits import PostgresWindow
from app.audit import trail as audit
from app.db import make_engine, make_health_engine, make_sessionmaker
from app.identity.key_cache import Invalidated, KeyCache, KeyCacheListener, listener_conninfo
from app.ogc.response_cache import ResponseCache
from app.risk_factors.open311 import routes as open311
from app.settings import (
    AdmissionSettings,
    CorsSettings,
    DatabaseSettings,
    KeyCacheSettings,
    LimitSettings,
    ProxySettings,
    TerritoryCacheSettings,
    get_admission_settings,
    get_basemap_settings,
    get_cors_settings,
    get_database_settings,
    get_key_cache_settings,
    get_limit_settings,
    get_proxy_settings,
    get_risk_settings,
    get_territory_cache_settings,
)
from app.territory import service as territory
from app.web import plan_pages
from app.web import routes as web
from app.web.map import STATIC_DIR

DESCRIPTION = """
Vigía es el sistema de información territorial del eje **Informaciones** del Plan Comunal
de Seguridad Pública (Ley 20.965): denuncias georreferenciadas, factores de riesgo urbano
informados por las policías, priorización de barrios y micro-barrios, y estadísticas
públicas que protegen la privacidad.

**Acceso**: sin clave se ve solo lo público. Las policías, unidades municipales,
planificadores y administradores usan una clave: `Authorization: Bearer vga_...`
(`vigia apikey create`), o HTTP Basic con la clave como contraseña (QGIS, GDAL). Las
claves nunca van en la URL.

**Errores**: todas las respuestas de error son `application/problem+json` (RFC 9457)
con un `code` estable y, para datos inválidos, la lista `errors` de campos y motivos.
"""


def create_app(
    database: DatabaseSettings | None = None,
    *,
    admission: AdmissionSettings | None = None,
    limits: LimitSettings | None = None,
    proxies: ProxySettings | None = None,
    key_cache: KeyCacheSettings | None = None,
    cors: CorsSettings | None = None,
    territory_cache: TerritoryCacheSettings | None = None,
) -> FastAPI:
    """The service; settings not given are read from the environment (README's table)."""
    settings = database or get_database_settings()
    limits = limits or get_limit_settings()
    admission = admission or get_admission_settings()
    proxies = proxies or get_proxy_settings()
    key_cache = key_cache or get_key_cache_settings()
    cors = cors or get_cors_settings()
    territory_cache = territory_cache or get_territory_cache_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        audit.check_keys()  # an unreadable audit key stops the start, not a request
        engine = make_engine(settings)
        health_engine = make_health_engine(settings)
        app.state.engine = engine
        app.state.health_engine = health_engine
        health.warm_up(app.state)
        app.state.sessionmaker = make_sessionmaker(engine)
        # shared by every worker through PostgreSQL, unless a test injected its own
        if getattr(app.state, "auth_failure_limiter", None) is None:
            app.state.auth_failure_limiter = PostgresWindow(
                engine, "autenticacion", limits.auth_failures, limits.window_s
            )
        if getattr(app.state, "public_limiter", None) is None:
            app.state.public_limiter = PostgresWindow(
                engine,
                "publico",
                limits.public_requests,
                limits.window_s,
                # a worker's unused slots may refuse a client early: at most a tenth
                lease=min(limits.public_lease, max(1, limits.public_requests // 10)),
                lease_s=min(limits.public_lease_s, limits.window_s / 4),
            )
        # sync routes and dependencies run in anyio's pool (40 threads): never fewer than turns
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, gate.concurrency + 10)
        listener = None
        # each cache is empty and off until the listener has run LISTEN
        keys = KeyCache(ttl_s=key_cache.ttl_s, max_entries=key_cache.max_entries)
        others: dict[str, Invalidated] = {}
        if key_cache.enabled:
            app.state.key_cache = keys
        if territory_cache.enabled:
            app.state.territory_cache = others[territory.CHANNEL] = ResponseCache(
                max_bytes=int(territory_cache.max_mb * 1024 * 1024), ttl_s=territory_cache.ttl_s
            )
        if key_cache.enabled or others:
            listener = KeyCacheListener(
                keys, listener_conninfo(settings.database_url), others=others
            )
            listener.start()
        yield
        if listener is not None:
            listener.stop()
        engine.dispose()
        health_engine.dispose()

    app = FastAPI(
        title="Vigía",
        version=__version__,
        summary="Información territorial para la seguridad pública comunal",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(reject_repeated_query), Depends(reject_key_in_url)],
        # FastAPI's pages load Swagger UI/ReDoc from a CDN with inline script: /docs and
        # /redoc are served by app.web.routes from vendored files instead
        docs_url=None,
        redoc_url=None,
    )

    # Each add_middleware wraps the ones before it: the last one runs first.
    app.add_middleware(PublicRateLimitMiddleware)
    app.add_middleware(
        BodyLimitMiddleware, settings=limits, uploads=upload_routes(limits, get_risk_settings())
    )
    # a turn is taken before any database work (the rate limit is a query too)
    gate = Gate(
        concurrency=admission.concurrency or settings.pool_size,
        queue=admission.queue,
        wait_s=admission.wait_s,
    )
    app.state.admission = gate
    app.add_middleware(AdmissionMiddleware, gate=gate, retry_after_s=admission.retry_after_s)
    app.add_middleware(RequestIdMiddleware)  # every response carries the id
    # cross-origin answers for every response, errors of the layers inside included
    app.add_middleware(CorsMiddleware, origins=cors.origins)
    # every response, errors of the middlewares inside included, gets the headers
    app.add_middleware(SecurityHeadersMiddleware, basemap_url=get_basemap_settings().url)
    if proxies.networks:  # first of all: rate limits and HSTS key on the client it establishes
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies.networks)

    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(api_router)
    app.include_router(ogc_router)
    app.include_router(open311.router)
    app.include_router(web.router)
    app.include_router(plan_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_openapi(app)
    # the reads map clients make by the hundred: without FastAPI's per-request resolution
    serve_directly(app, "ogcCollectionTile", "ogcItems")
    return app


logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
logging.getLogger("alembic").setLevel(logging.WARNING)  # /health asks for the revision often
app = create_app()
