from datetime import date

import typer
from rich.table import Table

from app.cli.common import console, out, transaction
from app.scoring.near_repeat import DEFAULT_PERMUTATIONS


def near_repeat_command(
    category: str = typer.Option(..., "--category", help="Código de la categoría (p. ej. 551)."),
    comuna: str | None = typer.Option(None, "--comuna", help="Código CUT (si hay varias)."),
    months: int = typer.Option(12, "--months", min=1, max=60, help="Meses del período."),
    end: str | None = typer.Option(
        None, "--end", help="Último día incluido (AAAA-MM-DD); por defecto, fin del último mes."
    ),
    permutations: int = typer.Option(
        DEFAULT_PERMUTATIONS, "--permutations", min=1, help="Permutaciones de Monte Carlo."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Semilla de las permutaciones."),
) -> None:
    """Repetición cercana: prueba de Knox por bandas de distancia y tiempo (como el Near
    Repeat Calculator): razón observado/esperado y valor p por celda."""
    from app.near_repeat.service import near_repeat_report

    try:
        period_end = date.fromisoformat(end) if end else None
    except ValueError as exc:
        raise typer.BadParameter("fecha AAAA-MM-DD", param_hint="--end") from exc
    with transaction(audited=False) as session, console.status("Permutando fechas…"):
        report = near_repeat_report(
            session,
            category=category,
            comuna=comuna,
            months=months,
            period_end=period_end,
            permutations=permutations,
            seed=seed,
        )
    result = report.result
    table = Table(
        title=(
            f"Repetición cercana: {report.category} {report.category_name}, comuna "
            f"{report.comuna}, {report.period.start} a {report.period.end} "
            f"({result.events} denuncias, {result.permutations} permutaciones)"
        )
    )
    table.add_column("Distancia")
    for label in result.time_labels:
        table.add_column(label, justify="right")
    cells = result.cells()
    width = len(result.time_labels)
    for a, label in enumerate(result.distance_labels):
        row = [label]
        for cell in cells[a * width : (a + 1) * width]:
            ratio = "–" if cell.ratio is None else f"{cell.ratio:.2f}".replace(".", ",")
            mark = "*" if cell.significant else ""
            row.append(f"{ratio}{mark} ({cell.observed}; p={cell.p_value:.3f})")
        table.add_row(*row)
    out.print(table)
    out.print(
        "Cada celda: razón observado/esperado (* = significativa, p < "
        f"{result.alpha:g}), pares observados y valor p de Monte Carlo."
    )
    readings = [c.reading for c in cells if c.reading]
    for reading in readings:
        out.print(f"• {reading[0].upper()}{reading[1:]}.")
    if not readings:
        out.print("Ninguna celda muestra más pares cercanos de lo esperado por azar.")
