import getpass
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from app import rankings
from app.cli.common import console, out, transaction
from app.rankings.external import load_external_variables
from app.rankings.wording import class_phrase, signal_phrase, variable_label
from app.territory.service import resolve_comuna

app = typer.Typer(help="Ranking de barrios y micro-barrios críticos.", no_args_is_help=True)

_STAGES = {
    "agregando": "Agregando denuncias y factores de riesgo por unidad…",
    "calculando": "Calculando variables, pruebas, índice e intervalos…",
    "guardando": "Guardando el ranking…",
}
_LEVEL_HELP = "barrio o micro_barrio."


def _level(value: str) -> str:
    if value not in ("barrio", "micro_barrio"):
        raise typer.BadParameter("use barrio o micro_barrio")
    return value


@app.command()
def compute(
    level: str = typer.Option(..., "--level", callback=_level, help=_LEVEL_HELP),
    comuna: str | None = typer.Option(None, "--comuna", help="Código CUT (si hay varias)."),
    months: int = typer.Option(12, "--months", min=1, max=60, help="Meses del período."),
    end: str | None = typer.Option(
        None, "--end", help="Último día incluido (AAAA-MM-DD); por defecto, fin del último mes."
    ),
    profile: str | None = typer.Option(None, "--profile", help="Perfil de pesos."),
    profile_version: int | None = typer.Option(None, "--profile-version", min=1),
    top: int = typer.Option(10, "--top", help="Unidades que se muestran."),
) -> None:
    """Calcula y guarda un ranking reproducible; imprime su id y huellas para citarlo."""
    try:
        period_end = date.fromisoformat(end) if end else None
    except ValueError as exc:
        raise typer.BadParameter("fecha AAAA-MM-DD", param_hint="--end") from exc
    with transaction() as session:
        with console.status("Preparando…") as status:
            snapshot = rankings.compute_snapshot(
                session,
                level=level,
                comuna=comuna,
                period_end=period_end,
                months=months,
                profile_name=profile,
                profile_version=profile_version,
                computed_by=f"cli:{getpass.getuser()}",
                progress=lambda stage: status.update(_STAGES[stage]),
            )
        from app.rankings.store import unit_results

        results = unit_results(session, snapshot.id)
        table = Table(
            title=(
                f"Ranking {snapshot.level} comuna {snapshot.comuna_code}, "
                f"{snapshot.period_start} a {snapshot.period_end} "
                f"({snapshot.profile_name} v{snapshot.profile_version})"
            )
        )
        method2 = "rank_low" in (results[0].diagnostics if results else {})
        columns = ["#", "Código", "Nombre", "Índice", "Clase", "Variables principales"]
        if method2:
            columns.insert(1, "Lugar (90 %)")
        for column in columns:
            table.add_column(column)
        for row in results[:top]:
            cells = [
                str(row.rank),
                row.unit_code,
                row.unit_name,
                f"{row.score:.1f}",
                class_phrase(
                    row.class_,
                    row.diagnostics.get("class_probability"),
                    row.diagnostics.get("class_stable"),
                ),
                ", ".join(variable_label(name) for name in row.top_variables),
            ]
            if method2:
                cells.insert(1, f"{row.diagnostics['rank_low']}–{row.diagnostics['rank_high']}")
            table.add_row(*cells)
        out.print(table)
        summary = signal_phrase(snapshot.meta)
        if summary:
            out.print(summary)
        out.print(f"id: {snapshot.id}")
        out.print(f"huella de entradas: {snapshot.input_fingerprint}")
        out.print(f"huella de resultados: {snapshot.result_fingerprint}")


@app.command("load-external")
def load_external(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: unit + columnas."),
    level: str = typer.Option(..., "--level", callback=_level, help=_LEVEL_HELP),
    name: str | None = typer.Option(
        None, "--name", help="Nombre de la variable (se pondera como ext_<nombre>)."
    ),
    comuna: str | None = typer.Option(None, "--comuna", help="Código CUT (si hay varias)."),
    source: str = typer.Option(..., "--source", help="De dónde viene el dato (p. ej. RSH 2025)."),
    unit_column: str = typer.Option("unit", "--unit-column", help="Columna con el código."),
) -> None:
    """Carga variables externas por unidad desde un CSV (reemplaza valores anteriores)."""
    with transaction() as session:
        code = resolve_comuna(session, comuna).code
        with file.open(encoding="utf-8", newline="") as handle:
            loaded = load_external_variables(
                session,
                handle,
                comuna=code,
                level=level,
                source=source,
                name=name,
                unit_column=unit_column,
            )
    for variable, count in loaded.items():
        out.print(f"ext_{variable}: {count} unidades")
