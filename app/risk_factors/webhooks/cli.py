import time

import typer

from app.cli.common import console, transaction
from app.risk_factors.webhooks import service as webhooks
from app.risk_factors.webhooks import targets as webhook_targets
from app.settings import get_webhook_settings

app = typer.Typer(help="Webhooks: entrega de notificaciones a las unidades.", no_args_is_help=True)


@app.command()
def deliver(
    loop: bool = typer.Option(False, "--loop", help="Seguir entregando hasta Ctrl-C."),
    interval: float = typer.Option(5.0, "--interval", min=0.5, help="Segundos entre rondas."),
) -> None:
    """Envía las entregas pendientes que ya corresponden (con reintentos y back-off)."""
    settings = get_webhook_settings()
    post = webhooks.httpx_post(settings.timeout_s)
    while True:
        with transaction() as session:
            # each delivery committed as it is recorded: a killed worker re-sends at most one
            run = webhooks.deliver_pending(
                session,
                webhooks.utcnow(),
                post,
                settings,
                webhook_targets.resolve_host,
                checkpoint=session.commit,
            )
        if run.delivered or run.failed or run.exhausted or not loop:
            console.print(
                f"entregadas {run.delivered}, fallidas {run.failed} (se reintentarán), "
                f"agotadas {run.exhausted}"
            )
        if not loop:
            return
        time.sleep(interval)
