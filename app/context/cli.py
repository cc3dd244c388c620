from pathlib import Path

import typer

from app.cli.common import console, out, transaction
from app.context import loader

app = typer.Typer(
    help="Capas de contexto: botillerías, paraderos, colegios y otros lugares.",
    no_args_is_help=True,
)


@app.command()
def load(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="Archivo GeoJSON, GeoPackage (.gpkg) o Shapefile."
    ),
    layer_type: str = typer.Option(
        ..., "--type", help="Tipo de capa (ver GET /api/v1/context-layers), p. ej. paradero."
    ),
    comuna: str | None = typer.Option(
        None, "--comuna", help="Código CUT: exige que todo caiga en esa comuna."
    ),
    source: str | None = typer.Option(
        None, "--source", help="Nombre de la fuente (por defecto, el nombre del archivo)."
    ),
    id_field: str | None = typer.Option(
        None,
        "--id-field",
        help="Propiedad con el identificador estable de cada elemento (por defecto `id`, "
        "o el número de feature).",
    ),
) -> None:
    """Valida y carga (o actualiza) una capa de contexto; si algo falla, no escribe nada."""

    def progress(done: int, total: int) -> None:
        console.print(f"  escritos {done} de {total} elementos")

    with transaction() as session:
        loader.check_layer_type(session, layer_type)
        console.print(f"Validando {file} …")
        items = loader.parse_context_file(file, id_field=id_field)
        console.print(f"[green]Archivo válido:[/green] {len(items)} elementos.")
        report = loader.load_context(
            session,
            items,
            layer_type=layer_type,
            source_name=source or file.stem,
            comuna=comuna,
            progress=progress,
        )
    comunas = ", ".join(f"{code}: {n}" for code, n in report.by_comuna.items())
    out.print(
        f"Capa {report.layer_type} (fuente {report.source_name}): {report.total} elementos "
        f"({comunas}); {report.inserted} nuevos, {report.updated} actualizados, "
        f"{report.unchanged} sin cambios.",
        soft_wrap=True,  # one line per load in a log, whatever the terminal's width
    )
    if report.not_in_file:
        console.print(
            f"[yellow]{report.not_in_file} elemento(s) de esta fuente ya cargados no vienen en "
            "el archivo; se conservan.[/yellow]"
        )
