import getpass
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.cli.common import console, out, transaction
from app.complaints.ingest import Format, ImportMode, import_complaints

app = typer.Typer(help="Denuncias: importación masiva.", no_args_is_help=True)

_STAGES = {
    "leyendo": "Leyendo y validando filas",
    "validando": "Ubicando puntos en la comuna",
    "guardando": "Guardando y asignando barrios",
}


def _count_rows(file: Path, fmt: Format) -> int | None:
    """Data rows of a CSV (lines minus the header), so the bar knows its total."""
    if fmt != "csv":
        return None
    with file.open("rb") as f:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return max(lines - 1, 0)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Archivo CSV o GeoJSON."),
    mode: ImportMode = typer.Option(
        ImportMode.ALL_OR_NOTHING,
        "--mode",
        help="all-or-nothing: una fila mala rechaza todo; skip-invalid: importa las buenas.",
    ),
    format: str | None = typer.Option(
        None, "--format", help="csv o geojson (por defecto, según la extensión)."
    ),
    geocode: bool = typer.Option(
        False,
        "--geocode",
        help="Geocodifica las filas con dirección y sin lon/lat (nomenclátor local); las que "
        "no se ubican quedan sin ubicación, en la cola de revisión.",
    ),
    comuna: str | None = typer.Option(
        None, "--comuna", help="Comuna cuyo nomenclátor usar (por defecto, la única cargada)."
    ),
) -> None:
    """Importa denuncias; reimportar el mismo archivo no duplica (fuente + external_ref)."""
    if format not in (None, "csv", "geojson"):
        console.print("[red]--format debe ser csv o geojson.[/red]")
        raise typer.Exit(2)
    fmt: Format = format or (  # type: ignore[assignment]
        "geojson" if file.suffix.lower() in {".geojson", ".json"} else "csv"
    )
    total = _count_rows(file, fmt)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(_STAGES["leyendo"], total=total)

        def progress(stage: str, done: int, stage_total: int | None) -> None:
            bar.update(task, description=_STAGES[stage], completed=done, total=stage_total or total)

        with transaction() as session:
            report = import_complaints(
                session,
                file,
                fmt=fmt,
                mode=mode,
                loaded_by=f"cli:{getpass.getuser()}",
                progress=progress,
                geocode=geocode,
                comuna=comuna,
            )
    refresh_map_cells()
    table = Table(title=f"Importación de {file.name}")
    for column in ("Filas", "Nuevas", "Actualizadas", "Sin cambios", "Rechazadas"):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            f"{n:,}".replace(",", ".")
            for n in (
                report.rows,
                report.inserted,
                report.updated,
                report.unchanged,
                report.rejected,
            )
        )
    )
    out.print(table)
    if geocode:
        out.print(
            f"Geocodificadas: {report.geocoded}; sin ubicar (cola de revisión): {report.unplaced}."
        )
    for problem in report.errors:
        console.print(f"  • fila {problem.get('row')}: {problem['field']}: {problem['reason']}")
    if report.errors_omitted:
        console.print(f"  … y {report.errors_omitted} problema(s) más.")


def refresh_map_cells() -> None:
    """The map's precomputed cells of the comunas the import changed (they count live
    until then: correct, slower on a large comuna)."""
    from app.ogc import cells

    with transaction() as session:
        rebuilt = cells.refresh_stale(session)
    if rebuilt:
        console.print(f"Celdas del mapa recalculadas: {', '.join(rebuilt)}.")


@app.command("cells")
def cells_command() -> None:
    """Recalcula las celdas precalculadas del mapa (zoom bajo) de las comunas desactualizadas."""
    refresh_map_cells()
