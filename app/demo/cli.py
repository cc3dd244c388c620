from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app import rankings
from app.cli.common import console, transaction
from app.complaints.ingest import import_complaints
from app.demo import complaints as demo_data
from app.demo import risk_factors as demo_risk_factors
from app.migrations import REPO_ROOT
from app.territory.service import resolve_comuna


def demo_data_command(
    years: int = typer.Option(5, "--years", min=1, max=30, help="Años hacia atrás."),
    seed: int = typer.Option(2026, "--seed", help="Semilla: la misma da los mismos datos."),
    comuna: str | None = typer.Option(
        None, "--comuna", help="Código CUT (por defecto, la única comuna cargada)."
    ),
    data_dir: Path = typer.Option(
        REPO_ROOT / "data", "--data-dir", help="Carpeta con categories.csv y los datos CEAD."
    ),
    series_dir: str = typer.Option(
        "lanco", "--series", help="Subcarpeta de --data-dir con las series CEAD de la comuna."
    ),
    end: str | None = typer.Option(
        None, "--end", help="Último mes (AAAA-MM); por defecto, el último mes completo."
    ),
    risk_factors: int = typer.Option(
        60, "--risk-factors", min=0, max=5000, help="Factores de riesgo sintéticos a informar."
    ),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="No hacer nada si la comuna ya tiene datos de demostración."
    ),
) -> None:
    """Genera denuncias sintéticas realistas (fuente `demo`) y las importa."""
    last = date.fromisoformat(f"{end}-01") if end else demo_data.last_complete_month(date.today())
    files = demo_data.DemoFiles.in_directory(data_dir, series_dir)
    with transaction() as session:
        code = resolve_comuna(session, comuna).code
        if if_empty and demo_data.demo_rows_exist(session, code):
            console.print(f"La comuna {code} ya tiene denuncias de demostración; no se agregan.")
            return
        barrios = demo_data.comuna_barrios(session, code)
        if not barrios:
            console.print(f"[red]La comuna {code} no tiene barrios cargados.[/red]")
            raise typer.Exit(1)
        console.print(
            f"Generando {years} año(s) de denuncias sintéticas para la comuna {code} "
            f"hasta {last:%Y-%m} (semilla {seed}) …"
        )
        sources = demo_data.build_sources(barrios, files)
        rows = [
            c.as_row()
            for c in demo_data.generate(
                sources, end=last, years=years, seed=seed, prefix=f"DEMO-{code}"
            )
        ]
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("Importando", total=len(rows))

            def progress(stage: str, done: int, total: int | None) -> None:
                bar.update(
                    task, description=stage.capitalize(), completed=done, total=total or len(rows)
                )

            report = import_complaints(
                session, rows, mode="all-or-nothing", loaded_by="demo-data", progress=progress
            )
        console.print(
            f"[green]Denuncias:[/green] {report.inserted} nuevas, {report.updated} actualizadas, "
            f"{report.unchanged} sin cambios (fuente demo, marcadas como sintéticas)."
        )
        if risk_factors and not demo_risk_factors.demo_reports_exist(session, code):
            console.print(f"Informando {risk_factors} factores de riesgo sintéticos …")
            made = demo_risk_factors.generate(session, barrios, count=risk_factors, seed=seed)
            console.print(
                f"[green]Factores de riesgo:[/green] {made.submitted} informes, "
                f"{made.transitions} cambios de estado."
            )
        for level in ("barrio", "micro_barrio"):
            snapshot = rankings.compute_snapshot(
                session,
                level=level,
                comuna=code,
                period_end=None,
                months=12,
                profile_name=None,
                profile_version=None,
                computed_by="demo-data",
            )
            console.print(
                f"[green]Ranking de {level.replace('_', '-')}s:[/green] {snapshot.id} "
                f"(período {snapshot.period_start} a {snapshot.period_end})."
            )
    from app.complaints.cli import refresh_map_cells

    refresh_map_cells()
