import typer
import uvicorn

from app.settings import get_api_settings


def serve(
    host: str | None = typer.Option(None, help="Interfaz (por defecto VIGIA_HOST o 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Puerto (por defecto VIGIA_PORT o 8000)."),
    reload: bool = typer.Option(False, help="Recargar al cambiar el código (desarrollo)."),
    workers: int = typer.Option(1, min=1, help="Procesos de uvicorn."),
) -> None:
    """Inicia el servicio HTTP (uvicorn)."""
    settings = get_api_settings()
    uvicorn.run(
        "app.main:app",
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
        workers=workers,
        proxy_headers=True,
    )
