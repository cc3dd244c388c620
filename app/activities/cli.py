"""`vigia activities`: import prevention activities from a spreadsheet, list them, attach
evidence, and print their indicators."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from app.cli.common import console, out, transaction

app = typer.Typer(
    help="Actividades de prevención: importar, listar, evidencias.", no_args_is_help=True
)
ComunaOpt = typer.Option(None, "--comuna", help="Código CUT (si hay varias comunas cargadas).")


@app.command("kinds")
def kinds_command() -> None:
    """Tipos de actividad y la meta del plan de cada uno."""
    from app.activities.catalog import kinds  # noqa: PLC0415

    table = Table("tipo", "meta", "descripción")
    for k in kinds().values():
        table.add_row(k.code, k.goal, k.label)
    out.print(table)


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Planilla CSV o XLSX."),
    mode: str = typer.Option("all-or-nothing", "--mode", help="all-or-nothing o skip-invalid."),
    comuna: str | None = ComunaOpt,
) -> None:
    """Importa actividades; sale con 1 y lista cada fila mala si rechaza el archivo."""
    from app.activities.importer import import_activities, sniff_format  # noqa: PLC0415
    from app.cli.common import report_error  # noqa: PLC0415

    with transaction() as session, file.open("rb") as stream:
        fmt = sniff_format(stream.read(4), file.name)
        stream.seek(0)
        report = import_activities(
            session, stream, fmt=fmt, mode=mode, comuna=comuna, recorded_by="cli"
        )
    console.print(
        f"{report.rows} filas: {report.inserted} importadas, {report.rejected} rechazadas."
    )
    if report.errors:
        from app.errors import InvalidInput  # noqa: PLC0415

        report_error(InvalidInput("Filas omitidas:", errors=report.errors))


@app.command("list")
def list_command(
    year: int | None = typer.Option(None, "--year", min=2000, max=2100),
    comuna: str | None = ComunaOpt,
) -> None:
    """Actividades registradas, la más reciente primero."""
    from app.activities.service import list_activities  # noqa: PLC0415

    with transaction(audited=False) as session:
        rows = list_activities(session, comuna, year=year)
    table = Table("id", "fecha", "meta", "tipo", "estado", "lugar", "asistentes")
    for a in rows:
        table.add_row(
            str(a.id),
            a.held_on.isoformat(),
            a.goal,
            a.kind,
            a.status.value,
            escape(a.place),
            str(a.attendance_total),
        )
    out.print(table)


@app.command("evidence")
def evidence_command(
    activity_id: int = typer.Argument(..., help="Actividad."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="PDF, PNG o JPEG."),
) -> None:
    """Guarda el medio de verificación de una actividad."""
    from app.activities.service import store_evidence  # noqa: PLC0415
    from app.council.documents import read_document  # noqa: PLC0415

    with transaction() as session, file.open("rb") as stream:
        store_evidence(session, activity_id, read_document(stream, file.name))
    console.print(f"Evidencia de la actividad {activity_id} guardada.")


@app.command("indicators")
def indicators_command(
    year: int = typer.Option(..., "--year", min=2000, max=2100),
    comuna: str | None = ComunaOpt,
) -> None:
    """Realizadas frente a programadas por meta, asistencia y barrios críticos alcanzados."""
    from app.activities.summary import indicators_read  # noqa: PLC0415
    from app.reports.period import year_period  # noqa: PLC0415

    with transaction(audited=False) as session:
        r = indicators_read(session, comuna, year_period(year))
    table = Table("meta", "programadas", "realizadas", "%", "asistentes", "0-17 años")
    for g in r.goals:
        table.add_row(
            g.goal,
            str(g.planned),
            str(g.done),
            f"{g.done_share or 0:g}",
            str(g.attendance),
            str(g.attendance_minors),
        )
    out.print(table)
    critical = ", ".join(r.critical_barrios) or "sin ranking"
    reached = ", ".join(r.critical_reached) or "ninguno"
    out.print(f"Barrios críticos: {critical}; con actividad: {reached}.")
