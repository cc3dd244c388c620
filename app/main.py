"""Application factory: `uvicorn app.main:app` or `vigia serve`."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from app import __version__
from app.api import api_router, health, ogc_router, open311, web
from app.api.deps import reject_repeated_query
from app.api.limits import BodyLimitMiddleware, PublicRateLimitMiddleware, SlidingWindow
from app.api.openapi import install_openapi
from app.api.problems import install_problem_handlers
from app.api.request_id import RequestIdMiddleware
from app.api.security_headers import SecurityHeadersMiddleware
from app.db import make_engine, make_sessionmaker
from app.services import audit
from app.services.web_map import STATIC_DIR
from app.settings import (
    DatabaseSettings,
    get_basemap_settings,
    get_database_settings,
    get_limit_settings,
)

DESCRIPTION = """
Vigía es el sistema de información territorial del eje **Informaciones** del Plan Comunal
de Seguridad Pública (Ley 20.965): denuncias georreferenciadas, factores de riesgo urbano
informados por las policías, priorización de barrios y micro-barrios, y estadísticas
públicas que protegen la privacidad.

**Acceso**: sin clave se ve solo lo público. Las policías, unidades municipales,
planificadores y administradores usan una clave: `Authorization: Bearer vga_...`
(`vigia apikey create`).

**Errores**: todas las respuestas de error son `application/problem+json` (RFC 9457)
con un `code` estable y, para datos inválidos, la lista `errors` de campos y motivos.
"""


def create_app(database: DatabaseSettings | None = None) -> FastAPI:
    settings = database or get_database_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        audit.check_keys()  # an unreadable audit key stops the start, not a request
        engine = make_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        yield
        engine.dispose()

    app = FastAPI(
        title="Vigía",
        version=__version__,
        summary="Información territorial para la seguridad pública comunal",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(reject_repeated_query)],
        # FastAPI's pages load Swagger UI/ReDoc from a CDN with inline script: /docs is
        # served by app.api.web from vendored files instead; ReDoc is not offered (its styles
        # are injected inline, which the Content-Security-Policy forbids)
        docs_url=None,
        redoc_url=None,
    )

    limits = get_limit_settings()
    app.state.auth_failure_limiter = SlidingWindow(limits.auth_failures, limits.window_s)
    app.state.public_limiter = SlidingWindow(limits.public_requests, limits.window_s)
    # added before the request-id middleware, so they run inside it and see the id
    app.add_middleware(PublicRateLimitMiddleware)
    app.add_middleware(BodyLimitMiddleware, settings=limits)

    app.add_middleware(RequestIdMiddleware)  # every response carries the id
    # outermost: every response, errors of the middlewares inside included, gets the headers
    app.add_middleware(SecurityHeadersMiddleware, basemap_url=get_basemap_settings().url)

    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(api_router)
    app.include_router(ogc_router)
    app.include_router(open311.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_openapi(app)
    return app


logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
logging.getLogger("alembic").setLevel(logging.WARNING)  # /health asks for the revision often
app = create_app()
