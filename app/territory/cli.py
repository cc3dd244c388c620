from pathlib import Path

import orjson
import typer
from rich.table import Table

from app.cli.common import console, out, report_error, transaction
from app.errors import InvalidInput
from app.identity import key_cache
from app.identity.key_cache import listener_conninfo
from app.settings import get_database_settings, get_territory_settings
from app.territory import service as territory

app = typer.Typer(help="Territorio: comuna, barrios y micro-barrios.", no_args_is_help=True)

_LEVEL_NAMES = {"comuna": "Comuna", "barrio": "Barrios", "micro_barrio": "Micro-barrios"}


@app.command()
def load(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Archivo GeoJSON."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Solo valida; no escribe nada."),
) -> None:
    """Valida y carga (o actualiza) el territorio de una comuna desde un GeoJSON."""
    try:
        document = orjson.loads(file.read_bytes())
    except orjson.JSONDecodeError as exc:
        console.print(f"[red]{file} no es JSON válido:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"Validando {file} …")
    try:
        parsed = territory.parse_territory(document, get_territory_settings())
    except InvalidInput as exc:
        report_error(exc)
        raise typer.Exit(1) from exc
    console.print(
        f"[green]Archivo válido:[/green] comuna {parsed.comuna.code} ({parsed.comuna.name}), "
        f"{len(parsed.barrios)} barrios, {len(parsed.micro_barrios)} micro-barrios."
    )
    if dry_run:
        return
    conninfo = listener_conninfo(get_database_settings().database_url)
    # returns once every running Vigía process has dropped the territory it served from memory
    with (
        key_cache.acknowledged(conninfo, parsed.comuna.code, channel=territory.CHANNEL) as acks,
        transaction() as session,
    ):
        report = territory.load_territory(session, parsed)
    if acks.missing:
        console.print(
            f"[yellow]{acks.missing} proceso(s) de Vigía no confirmaron haber descartado el "
            "territorio en memoria; si perdieron su conexión, su caché está desactivada.[/yellow]"
        )
    table = Table(title=f"Carga de la comuna {report.comuna}")
    for column in (
        "Nivel",
        "Nuevos",
        "Actualizados",
        "Sin cambios",
        "En la base, no en el archivo",
    ):
        table.add_column(column)
    for level, r in report.levels.items():
        table.add_row(
            _LEVEL_NAMES[level],
            str(len(r.inserted)),
            str(len(r.updated)),
            str(len(r.unchanged)),
            ", ".join(r.not_in_file) or "-",
        )
    out.print(table)
    if not report.changed:
        console.print("Nada cambió: la base ya tenía este territorio.")
