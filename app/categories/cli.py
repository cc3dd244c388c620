from pathlib import Path

import typer

from app.categories import catalog as categories
from app.cli.common import console, report_error, transaction
from app.errors import InvalidInput

app = typer.Typer(help="Catálogo de categorías de delito.", no_args_is_help=True)


@app.command()
def load(
    file: Path = typer.Argument(
        categories.CATEGORIES_FILE, exists=True, dir_okay=False, help="CSV del catálogo."
    ),
) -> None:
    """Carga o actualiza el catálogo (por defecto data/categories.csv)."""
    try:
        rows = categories.read_catalog(file)
    except InvalidInput as exc:
        report_error(exc)
        raise typer.Exit(1) from exc
    with transaction() as session:
        report = categories.load_catalog(session, rows)
    console.print(
        f"[green]Catálogo cargado[/green]: {report.families} familias; categorías nuevas "
        f"{report.inserted}, actualizadas {report.updated}, sin cambios {report.unchanged}."
    )
