"""The web map at `/` and the little configuration it reads."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, HTMLResponse, Response

from app.schemas.web import MapConfigRead
from app.services import web_map
from app.settings import BasemapSettings, get_basemap_settings

router = APIRouter()

BasemapDep = Annotated[BasemapSettings, Depends(get_basemap_settings)]


@router.get("/", include_in_schema=False, response_class=HTMLResponse)
def map_page() -> Response:
    """Mapa web para planificadores (o cómo instalarlo, si faltan sus bibliotecas)."""
    missing = web_map.missing_vendor_files()
    if missing:
        return HTMLResponse(web_map.setup_needed_page(missing), status_code=503)
    return FileResponse(web_map.INDEX_FILE, media_type="text/html; charset=utf-8")


@router.get(
    "/api/v1/map-config",
    operation_id="getMapConfig",
    response_model=MapConfigRead,
    tags=["mapa"],
)
def map_config(basemap: BasemapDep) -> MapConfigRead:
    """Configuración del mapa web: mapa base opcional y nombres de las variables del ranking."""
    return web_map.map_config(basemap)
