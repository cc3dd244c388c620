"""`vigia serve`: uvicorn, one or several worker processes (the production command)."""

import typer
import uvicorn
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.cli.common import console, engine
from app.settings import DatabaseSettings, get_api_settings, get_database_settings

# Connections kept free for everything that is not a worker: the webhook worker, an
# operator's `vigia` commands, psql, backups.
OTHER_CONNECTIONS = 10
WORKER_HEALTHCHECK_S = 60
KEEP_ALIVE_S = 75
HEALTH_CONNECTIONS = 2  # app.db.make_health_engine: pool 1 + overflow 1


def connections_per_worker(settings: DatabaseSettings) -> int:
    return settings.pool_size + settings.pool_max_overflow + HEALTH_CONNECTIONS


def check_connection_budget(workers: int, settings: DatabaseSettings) -> None:
    """Warn when the workers could ask PostgreSQL for more connections than it allows."""
    needed = workers * connections_per_worker(settings)
    try:
        with engine().connect() as conn:
            allowed = conn.scalar(
                text(
                    "SELECT current_setting('max_connections')::int"
                    " - current_setting('superuser_reserved_connections')::int"
                )
            )
    except SQLAlchemyError:
        return  # /health will say the database is down; not serve's job
    budget = int(allowed or 0) - OTHER_CONNECTIONS
    if needed > budget:
        console.print(
            f"[yellow]Aviso:[/yellow] {workers} procesos x "
            f"({settings.pool_size} pool + {settings.pool_max_overflow} extra + "
            f"{HEALTH_CONNECTIONS} /health) = {needed} conexiones, y PostgreSQL admite "
            f"{budget} (max_connections menos reservadas y {OTHER_CONNECTIONS} para otros). "
            "Baje VIGIA_POOL_SIZE / VIGIA_POOL_MAX_OVERFLOW o --workers, o suba "
            "max_connections."
        )


def serve(
    host: str | None = typer.Option(None, help="Interfaz (por defecto VIGIA_HOST o 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Puerto (por defecto VIGIA_PORT o 8000)."),
    reload: bool = typer.Option(False, help="Recargar al cambiar el código (desarrollo)."),
    workers: int = typer.Option(
        1, min=1, help="Procesos de uvicorn (producción: uno o dos por núcleo)."
    ),
) -> None:
    """Inicia el servicio HTTP (uvicorn)."""
    settings = get_api_settings()
    check_connection_budget(workers, get_database_settings())
    uvicorn.run(
        "app.main:app",
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
        workers=workers,
        # X-Forwarded-* are honoured by the app itself, only from VIGIA_TRUSTED_PROXIES;
        # uvicorn's own handling would trust any local peer (127.0.0.1) by default.
        proxy_headers=False,
        server_header=False,
        # a new worker imports the whole app (geopandas, esda...) before it can answer the
        # supervisor's ping: 5 s by default, and a loaded 2-core machine took 30 s, so the
        # supervisor kept killing and respawning workers that were still importing
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        # longer than the proxy keeps idle upstream connections (nginx: keepalive_timeout
        # 60 s in docs/deploy/nginx.conf): else uvicorn's 5 s default closes a connection
        # just as the proxy reuses it, and that request fails without an answer
        timeout_keep_alive=KEEP_ALIVE_S,
    )
