"""The work pages: the municipal inbox, a unit's queue and the intervention projects.

Static files (`app/static/trabajo/`) that call the same REST API as any client, with the key
the web map keeps; the API decides what each key may see and do, the page only shows it.
"""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from app.web.map import STATIC_DIR

router = APIRouter(include_in_schema=False)

WORK_DIR: Path = STATIC_DIR / "trabajo"
PAGES = {
    "/bandeja": "bandeja.html",
    "/unidad": "unidad.html",
    "/proyectos": "proyectos.html",
}


def _page(name: str) -> FileResponse:
    return FileResponse(WORK_DIR / name, media_type="text/html; charset=utf-8")


@router.get("/bandeja", response_class=HTMLResponse)
def inbox_page() -> FileResponse:
    """Bandeja municipal: validar, derivar, descartar, marcar duplicados, reabrir."""
    return _page(PAGES["/bandeja"])


@router.get("/unidad", response_class=HTMLResponse)
def unit_queue_page() -> FileResponse:
    """Cola de la unidad responsable: tomar y resolver, con nota y foto."""
    return _page(PAGES["/unidad"])


@router.get("/proyectos", response_class=HTMLResponse)
def projects_page() -> FileResponse:
    """Proyectos de intervención: lista, creación, factores asociados, estado y evaluación."""
    return _page(PAGES["/proyectos"])
