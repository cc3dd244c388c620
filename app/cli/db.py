import typer

from app import migrations as schema
from app.cli.common import console, engine

app = typer.Typer(help="Base de datos: migraciones.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("heads", help="Revisión destino.")) -> None:
    """Aplica las migraciones de Alembic (crea PostGIS y todas las tablas)."""
    eng = engine()
    try:
        schema.upgrade(eng, revision)
        with eng.connect() as connection:
            current = ", ".join(sorted(schema.current_revisions(connection)))
    finally:
        eng.dispose()
    console.print(f"[green]Base de datos al día[/green] (revisión {current}).")
