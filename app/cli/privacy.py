"""`vigia privacy check`: fails when any public output breaks the privacy rules."""

from typing import Annotated

import httpx
import typer

from app.cli.common import out, transaction
from app.privacy.runner import check_all, rules_from_db

app = typer.Typer(help="Privacidad de las salidas públicas.", no_args_is_help=True)


@app.command("check")
def check(
    base_url: Annotated[
        str | None,
        typer.Option(help="Servicio a revisar (por defecto, la aplicación en este proceso)."),
    ] = None,
) -> None:
    """Llama a cada endpoint público (sin clave) y revisa sus respuestas; sale con 1 si falla."""
    with transaction() as session:
        rules = rules_from_db(session)
    if base_url:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            report = check_all(client, rules)
    else:
        from fastapi.testclient import TestClient

        from app.main import create_app

        with TestClient(create_app()) as client:
            report = check_all(client, rules)
    for endpoint in report.checked:
        out.print(f"revisado: {endpoint}")
    if report.violations:
        out.print(f"[red]{len(report.violations)} infracción(es) de privacidad:[/red]")
        for violation in report.violations:
            out.print(f"  - {violation}")
        raise typer.Exit(1)
    out.print(f"Sin infracciones en {len(report.checked)} respuestas públicas.")
