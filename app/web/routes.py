"""The web map at `/` and the little configuration it reads."""

import secrets
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, HTMLResponse, Response

from app.api.deps import SessionDep
from app.api.params import ComunaChoice
from app.api.security_headers import content_security_policy
from app.privacy import public_page
from app.privacy.public_stats import Level, public_stats
from app.settings import BasemapSettings, get_basemap_settings
from app.web import field, work_pages
from app.web import map as web_map
from app.web.schemas import MapConfigRead

router = APIRouter()
router.include_router(work_pages.router)
router.include_router(field.router)

BasemapDep = Annotated[BasemapSettings, Depends(get_basemap_settings)]


@router.get("/", include_in_schema=False, response_class=HTMLResponse)
def map_page(session: SessionDep, basemap: BasemapDep) -> Response:
    """Mapa web para planificadores (o cómo instalarlo, si faltan sus bibliotecas)."""
    missing = web_map.missing_vendor_files()
    if missing:
        return HTMLResponse(web_map.setup_needed_page(missing), status_code=503)
    config = web_map.map_config(session, basemap)
    # the page carries the territory of this moment: never reused from a cache
    return HTMLResponse(web_map.map_page_html(config), headers={"Cache-Control": "no-cache"})


@router.get("/geocodificacion", include_in_schema=False, response_class=HTMLResponse)
def geocoding_review_page() -> Response:
    """Cola de denuncias por ubicar (la geocodificación que necesita una persona)."""
    return FileResponse(web_map.REVIEW_FILE, media_type="text/html; charset=utf-8")


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
def docs_page() -> Response:
    """Swagger UI over /openapi.json, from vendored files (no CDN, no inline script)."""
    return FileResponse(web_map.DOCS_FILE, media_type="text/html; charset=utf-8")


@router.get("/redoc", include_in_schema=False, response_class=HTMLResponse)
def redoc_page() -> Response:
    """ReDoc over /openapi.json, from vendored files; its styles carry this response's nonce."""
    nonce = secrets.token_urlsafe(18)
    return HTMLResponse(
        web_map.redoc_html(nonce),
        headers={"Content-Security-Policy": content_security_policy(style_nonce=nonce)},
    )


@router.get(
    "/api/v1/map-config",
    operation_id="getMapConfig",
    response_model=MapConfigRead,
    tags=["mapa"],
)
def map_config(session: SessionDep, basemap: BasemapDep) -> MapConfigRead:
    """Configuración del mapa web: mapa base, variables del ranking y comunas con su extensión."""
    return web_map.map_config(session, basemap)


LevelQuery = Annotated[Level, Query(description="comuna o barrio (unidades fijas).")]
YearQuery = Annotated[int, Query(ge=2000, le=2100, description="Año (hora de Chile).")]
FamilyQuery = Annotated[
    str | None, Query(pattern=r"^\d{1,3}$", description="Familia CEAD (no sensible).")
]


def _query(level: str, year: int, comuna: str | None, family: str | None) -> str:
    params = {"level": level, "year": year, "comuna": comuna, "family": family}
    return urlencode({k: v for k, v in params.items() if v is not None})


@router.get("/estadisticas", include_in_schema=False, response_class=HTMLResponse)
def statistics_page(
    session: SessionDep,
    level: LevelQuery = "barrio",
    year: YearQuery = date.today().year,
    comuna: ComunaChoice = None,
    family: FamilyQuery = None,
) -> HTMLResponse:
    """Estadísticas públicas (sin clave): denuncias suprimidas, factores de riesgo, ranking."""
    data = public_page.page_data(session, comuna=comuna, level=level, year=year, family=family)
    csv_url = "/estadisticas.csv?" + _query(level, year, comuna, family)
    return HTMLResponse(public_page.render_page(session, data, csv_url))


@router.get("/estadisticas.csv", include_in_schema=False)
def statistics_csv(
    session: SessionDep,
    level: LevelQuery = "barrio",
    year: YearQuery = date.today().year,
    comuna: ComunaChoice = None,
    family: FamilyQuery = None,
) -> Response:
    """La tabla de /estadisticas, tal como se muestra, en CSV."""
    stats = public_stats(session, comuna=comuna, level=level, year=year, family=family)
    name = f"estadisticas-{stats['comuna']}-{level}-{year}.csv"
    return Response(
        public_page.table_csv(public_page.stats_table(stats)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
