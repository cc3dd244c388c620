"""`vigia gazetteer`: load a comuna's street and place layers, geocode from the terminal."""

import getpass
from pathlib import Path

import typer

from app.cli.common import console, out, transaction

app = typer.Typer(
    help="Nomenclátor: calles, direcciones y lugares para geocodificar.", no_args_is_help=True
)


@app.command()
def load(
    files: list[Path] = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help="GeoJSON, GeoPackage (.gpkg), Shapefile (.shp) o extracto OSM (.osm.pbf).",
    ),
    comuna: str = typer.Option(..., "--comuna", help="Código CUT de la comuna (p. ej. 14103)."),
    source: str | None = typer.Option(
        None, "--source", help="Nombre de la fuente (por defecto, el nombre del archivo)."
    ),
) -> None:
    """Valida y carga cada archivo como una versión del nomenclátor; si algo falla, no
    escribe nada. Recargar el mismo archivo no crea otra versión."""
    from app.geocoding.loader import invalid_file, load_gazetteer
    from app.geocoding.reader import GazetteerFileError, read_gazetteer

    with transaction() as session:
        for file in files:
            try:
                content = read_gazetteer(file)
            except GazetteerFileError as exc:
                raise invalid_file(file.name, exc) from exc
            name = source if source and len(files) == 1 else file.name.split(".")[0]
            report = load_gazetteer(
                session,
                content,
                comuna=comuna,
                source_name=name,
                loaded_by=f"cli:{getpass.getuser()}",
            )
            counts = ", ".join(f"{k}: {v}" for k, v in report.counts.items())
            state = "sin cambios" if report.unchanged else "cargada"
            out.print(f"{file.name}: versión {report.version} {state} ({counts}).", soft_wrap=True)


@app.command()
def geocode(
    address: str = typer.Argument(..., help="Dirección, p. ej. 'Pje. Los Aromos 345'."),
    comuna: str = typer.Option(..., "--comuna", help="Código CUT de la comuna."),
) -> None:
    """Geocodifica una dirección y muestra el resultado y los candidatos."""
    from app.geocoding.matcher import geocode_many

    with transaction(audited=False) as session:
        result = geocode_many(session, [address], comuna=comuna)[0]
    if result.placed:
        console.print(
            f"[green]{result.precision}[/green] ({result.lon:.6f}, {result.lat:.6f}) "
            f"puntaje {result.score:.2f}: {result.matched}"
        )
    else:
        console.print(f"[yellow]Sin ubicar[/yellow] (mejor puntaje {result.score:.2f}).")
    for c in result.candidates:
        console.print(f"  • {c['score']:.2f} {c['precision']} {c['matched']}")
