"""`vigia privacy check`: fails when any public output breaks the privacy rules."""

from typing import Annotated

import httpx
import typer

from app.cli.common import out, transaction
from app.privacy.runner import (
    Client,
    audit_all,
    check_all,
    published_years,
    rules_from_db,
    scan_reports,
)

app = typer.Typer(help="Privacidad de las salidas públicas.", no_args_is_help=True)


@app.command("check")
def check(
    base_url: Annotated[
        str | None,
        typer.Option(help="Servicio a revisar (por defecto, la aplicación en este proceso)."),
    ] = None,
    year: Annotated[
        list[int] | None,
        typer.Option(help="Año a auditar (repetible; por defecto, todos los que tienen datos)."),
    ] = None,
) -> None:
    """Revisa cada endpoint público (sin clave) y audita los intervalos de toda celda oculta
    en las tablas publicadas; sale con 1 si algo falla.
    """
    if base_url:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            failed = _run(client, year)
    else:
        from fastapi.testclient import TestClient

        from app.main import create_app

        with TestClient(create_app()) as client:
            failed = _run(client, year)
    if failed:
        raise typer.Exit(1)


def _run(client: Client, years: list[int] | None) -> bool:
    with transaction() as session:
        rules = rules_from_db(session)
        report = check_all(client, rules)
        chosen = years or published_years(session)
        audited = audit_all(client, session, chosen)
        reports = scan_reports(session, rules, chosen)
    report.checked.extend(reports.checked)
    report.violations.extend(reports.violations)
    for endpoint in report.checked:
        out.print(f"revisado: {endpoint}")
    if report.violations:
        out.print(f"[red]{len(report.violations)} infracción(es) de privacidad:[/red]")
        for violation in report.violations:
            out.print(f"  - {violation}")
    else:
        out.print(f"Sin infracciones en {len(report.checked)} respuestas públicas.")
    span = ", ".join(str(y) for y in chosen) or "ninguno (sin denuncias)"
    if audited.findings:
        out.print(
            f"[red]Auditoría de intervalos: {len(audited.findings)} celda(s) acotada(s) "
            f"entre {audited.audited} ocultas o no publicadas (años {span}):[/red]"
        )
        for finding in audited.findings:
            out.print(f"  - {finding}")
    else:
        out.print(
            f"Auditoría de intervalos: ninguna de las {audited.audited} celdas ocultas o no "
            f"publicadas queda acotada (años {span})."
        )
    return bool(report.violations or audited.findings)
