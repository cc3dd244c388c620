"""The police field form at `/reportar`: a static, installable page (web app manifest and a
service worker) that works offline and calls the same REST API as any client.

The page's files live in `app/static/reportar/`; the service worker is served from the root
(`/reportar-sw.js`) so its scope can be `/reportar` (a worker's scope cannot reach above the
folder it is served from).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, HTMLResponse, Response

from app.settings import RiskFactorSettings, get_risk_settings
from app.web.map import STATIC_DIR
from app.web.schemas import FieldConfigRead

FIELD_DIR = STATIC_DIR / "reportar"
FORM_FILE = STATIC_DIR / "reportar.html"
WORKER_FILE = FIELD_DIR / "sw.js"
FAVICON_FILE = FIELD_DIR / "icono-192.png"

router = APIRouter()

SettingsDep = Annotated[RiskFactorSettings, Depends(get_risk_settings)]


@router.get("/reportar", include_in_schema=False, response_class=HTMLResponse)
def field_form() -> Response:
    """Formulario de terreno para policías (instalable, funciona sin señal)."""
    return FileResponse(FORM_FILE, media_type="text/html; charset=utf-8")


@router.get("/reportar-sw.js", include_in_schema=False)
def field_worker() -> Response:
    """The form's service worker; never cached by HTTP, so a new version is seen at once."""
    return FileResponse(
        WORKER_FILE,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """Vigía's icon for browsers that ask for /favicon.ico (pages link /static/icono.svg)."""
    return FileResponse(
        FAVICON_FILE, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get(
    "/api/v1/field-config",
    operation_id="getFieldConfig",
    response_model=FieldConfigRead,
    tags=["factores de riesgo"],
)
def field_config(settings: SettingsDep) -> FieldConfigRead:
    """Límites que un cliente de terreno respeta antes de enviar (fotos, vértices)."""
    return FieldConfigRead(
        photo_max_bytes=settings.photo_max_bytes,
        photo_max_pixels=settings.photo_max_pixels,
        photos_per_report=settings.photos_per_report,
        max_vertices=settings.max_vertices,
    )
