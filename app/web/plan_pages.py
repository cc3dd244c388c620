"""The executive secretary's pages: the council (/consejo), prevention activities
(/actividades) and the plan's dashboard (/plan). Static files that call the API with the
key kept in the tab's sessionStorage (the map's "vigia.clave"); no inline script, so the
Content-Security-Policy stays strict.
"""

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from app.web.map import STATIC_DIR

router = APIRouter()

PAGES = {"/consejo": "consejo.html", "/actividades": "actividades.html", "/plan": "plan.html"}


def _page(name: str) -> Response:
    return FileResponse(STATIC_DIR / name, media_type="text/html; charset=utf-8")


@router.get("/consejo", include_in_schema=False, response_class=HTMLResponse)
def council_page() -> Response:
    """Registrar sesiones del Consejo y el seguimiento de sus compromisos."""
    return _page(PAGES["/consejo"])


@router.get("/actividades", include_in_schema=False, response_class=HTMLResponse)
def activities_page() -> Response:
    """Registrar o importar actividades de prevención."""
    return _page(PAGES["/actividades"])


@router.get("/plan", include_in_schema=False, response_class=HTMLResponse)
def plan_page() -> Response:
    """Tablero del plan: cada meta con su indicador, meta, estado y semáforo."""
    return _page(PAGES["/plan"])
