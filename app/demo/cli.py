import tempfile
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from app import rankings
from app.cli.common import console, transaction
from app.complaints.ingest import import_complaints
from app.demo import complaints as demo_data
from app.demo import risk_factors as demo_risk_factors
from app.demo.sources import DemoFiles, build_sources
from app.demo.world import DemoWorld, simulate
from app.migrations import REPO_ROOT
from app.territory.service import resolve_comuna


def default_truth_path(comuna: str, seed: int, signal: bool) -> Path:
    """Where the truth document goes without --truth-out: the system's temporary folder."""
    name = f"verdad-{comuna}-{seed}" + ("" if signal else "-nulo")
    return Path(tempfile.gettempdir()) / "vigia-demo" / f"{name}.json"


def demo_data_command(
    years: int = typer.Option(5, "--years", min=1, max=30, help="Años hacia atrás."),
    seed: int = typer.Option(2026, "--seed", min=0, help="Semilla: la misma da los mismos datos."),
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
    signal: bool = typer.Option(
        True,
        "--signal/--no-signal",
        help="Plantar la señal conocida (por defecto) o generar el mundo nulo (sin diferencias).",
    ),
    truth_out: Path | None = typer.Option(
        None,
        "--truth-out",
        help="Dónde escribir la verdad plantada (JSON); por defecto, en la carpeta temporal.",
    ),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="No hacer nada si la comuna ya tiene datos de demostración."
    ),
) -> None:
    """Genera denuncias sintéticas realistas (fuente `demo`) y las importa."""
    last = date.fromisoformat(f"{end}-01") if end else demo_data.last_complete_month(date.today())
    files = DemoFiles.in_directory(data_dir, series_dir)
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
            f"hasta {last:%Y-%m} (semilla {seed}, "
            f"{'con señal plantada' if signal else 'mundo nulo'}) …"
        )
        sources = build_sources(barrios, files, demo_data.comuna_micro_barrios(session, code))
        world = simulate(
            sources,
            seed=seed,
            end=last,
            years=years,
            signal=signal,
            risk_factors=risk_factors,
            expected_days=demo_risk_factors.catalog_days(session),
        )
        _import(session, world, prefix=f"DEMO-{code}")
        _submit_factors(session, world, code, seed)
        _context_layers(session, world, code, seed)
        _council(session, code, last, seed)
        _rankings(session, code, last)
    path = truth_out or default_truth_path(code, seed, signal)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(world.truth.to_json())
    console.print(f"[green]Verdad plantada:[/green] {path}", soft_wrap=True)  # a path to copy
    from app.complaints.cli import refresh_map_cells

    refresh_map_cells()


def _import(session: Session, world: DemoWorld, *, prefix: str) -> None:
    rows = [c.as_row() for c in demo_data.complaint_rows(world, prefix=prefix)]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
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


def _submit_factors(session: Session, world: DemoWorld, comuna: str, seed: int) -> None:
    if not world.factors:
        return
    if demo_risk_factors.demo_reports_exist(session, comuna):
        console.print(
            "[yellow]La comuna ya tiene factores de riesgo de demostración: no se informan "
            "otros, y las denuncias se plantaron alrededor de factores que no están en la "
            "base.[/yellow]"
        )
        return
    console.print(f"Informando {len(world.factors)} factores de riesgo sintéticos …")
    made = demo_risk_factors.submit_plan(session, world.factors, seed=seed)
    console.print(
        f"[green]Factores de riesgo:[/green] {made.submitted} informes, "
        f"{made.transitions} cambios de estado."
    )


def _context_layers(session: Session, world: DemoWorld, comuna: str, seed: int) -> None:
    """The synthetic context layers, written to GeoJSON and loaded by the real loader."""
    import orjson

    from app.context import loader
    from app.demo.context import SOURCE_NAME, context_collections

    with tempfile.TemporaryDirectory() as folder:
        for layer_type, collection in context_collections(world, seed=seed).items():
            path = Path(folder) / f"{layer_type}.geojson"
            path.write_bytes(orjson.dumps(collection))
            report = loader.load_context(
                session,
                loader.parse_context_file(path),
                layer_type=layer_type,
                source_name=SOURCE_NAME,
                comuna=comuna,
                synthetic=True,
            )
            console.print(
                f"[green]Capa de contexto {layer_type}:[/green] {report.total} elementos "
                f"sintéticos ({report.inserted} nuevos, {report.updated} actualizados)."
            )


def _council(session: Session, comuna: str, last: date, seed: int) -> None:
    """A year of council sessions and prevention activities (app/demo/council.py)."""
    from app.demo import council

    if council.demo_council_exists(session, comuna):
        return
    made = council.create_demo_council(session, comuna, last, seed=seed)
    console.print(
        f"[green]Consejo:[/green] {made.sessions} sesiones, {made.agreements} compromisos, "
        f"{made.follow_ups} seguimientos; {made.activities} actividades de prevención "
        "(de demostración)."
    )


def _rankings(session: Session, comuna: str, last: date) -> None:
    """Rankings of the window's last 12 months (or the last complete ones, if later)."""
    month_end = (last.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    period_end = min(month_end, rankings.default_period_end())
    for level in ("barrio", "micro_barrio"):
        snapshot = rankings.compute_snapshot(
            session,
            level=level,
            comuna=comuna,
            period_end=period_end,
            months=12,
            profile_name=None,
            profile_version=None,
            computed_by="demo-data",
        )
        console.print(
            f"[green]Ranking de {level.replace('_', '-')}s:[/green] {snapshot.id} "
            f"(período {snapshot.period_start} a {snapshot.period_end})."
        )
