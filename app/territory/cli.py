from pathlib import Path

import orjson
import typer
from rich.table import Table

from app.cli.common import console, out, report_error, transaction
from app.errors import InvalidInput
from app.identity import key_cache
from app.identity.key_cache import listener_conninfo
from app.settings import get_database_settings, get_territory_settings
from app.territory import blocks as blocks_service
from app.territory import service as territory

app = typer.Typer(
    help="Territorio: comuna, barrios, micro-barrios y manzanas censales.", no_args_is_help=True
)

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


@app.command()
def blocks(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Manzanas: GeoJSON, GeoPackage (.gpkg) o Shapefile."
    ),
    comuna: str | None = typer.Option(
        None, "--comuna", help="Código CUT: exige que todas las manzanas caigan en esa comuna."
    ),
    id_field: str = typer.Option(
        blocks_service.DEFAULT_ID_FIELD,
        "--id-field",
        help="Propiedad con el identificador estable de cada manzana (INE: manzana_id).",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Solo valida; no escribe nada."),
) -> None:
    """Valida y carga (o actualiza) las manzanas censales: la base clara del mapa sin mapa base.

    Se cargan después del territorio (cada manzana debe caer en una comuna cargada); si algo
    falla, no escribe nada. Cargar el mismo archivo otra vez no cambia nada.
    """

    def progress(done: int, total: int) -> None:
        console.print(f"  escritas {done} de {total} manzanas")

    with transaction() as session:
        console.print(f"Validando {file} …")
        items = blocks_service.parse_blocks_file(file, id_field=id_field)
        console.print(f"[green]Archivo válido:[/green] {len(items)} manzanas.")
        if dry_run:
            return
        report = blocks_service.load_blocks(session, items, comuna=comuna, progress=progress)
    comunas = ", ".join(f"{code}: {n}" for code, n in report.by_comuna.items())
    out.print(
        f"Manzanas: {report.total} ({comunas}); {report.inserted} nuevas, "
        f"{report.updated} actualizadas, {report.unchanged} sin cambios.",
        soft_wrap=True,
    )
    if report.not_in_file:
        console.print(
            f"[yellow]{report.not_in_file} manzana(s) de estas comunas ya cargadas no vienen "
            "en el archivo; se conservan.[/yellow]"
        )
