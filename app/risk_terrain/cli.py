import getpass
from datetime import date

import typer
from rich.table import Table

from app.cli.common import console, out, transaction
from app.risk_terrain import service
from app.scoring.risk_terrain import DEFAULT_BANDS_M

app = typer.Typer(help="Terreno de riesgo: qué lugares elevan el riesgo.", no_args_is_help=True)


def _codes(value: str | None) -> list[str] | None:
    return [c.strip() for c in value.split(",") if c.strip()] if value else None


@app.command()
def compute(
    comuna: str | None = typer.Option(None, "--comuna", help="Código CUT (si hay varias)."),
    months: int = typer.Option(12, "--months", min=1, max=60, help="Meses del período."),
    end: str | None = typer.Option(
        None, "--end", help="Último día incluido (AAAA-MM-DD); por defecto, fin del último mes."
    ),
    categories: str | None = typer.Option(
        None, "--categories", help="Categorías separadas por comas; por defecto, las DMCS."
    ),
    layers: str | None = typer.Option(
        None,
        "--layers",
        help="Tipos de factor o de contexto separados por comas; por defecto, todos.",
    ),
    cell_m: float = typer.Option(50.0, "--cell-m", help="Lado de la celda en metros."),
    bands: str = typer.Option(
        ",".join(f"{b:g}" for b in DEFAULT_BANDS_M), "--bands", help="Bandas en metros."
    ),
    seed: int = typer.Option(1, "--seed", min=0, help="Semilla de la validación cruzada."),
    strata: str = typer.Option(
        "micro_barrio", "--strata", help="Efecto fijo: micro_barrio, barrio o ninguno."
    ),
    validation_months: int = typer.Option(
        0, "--validation-months", min=0, max=24, help="Meses siguientes para PAI/PEI."
    ),
) -> None:
    """Ajusta y guarda un modelo de terreno de riesgo; imprime su id, huellas y factores."""
    try:
        period_end = date.fromisoformat(end) if end else None
        bands_m = [float(b) for b in bands.split(",")]
    except ValueError as exc:
        raise typer.BadParameter("fecha AAAA-MM-DD y bandas numéricas") from exc
    request = service.Request(
        comuna=comuna,
        period_end=period_end,
        months=months,
        categories=_codes(categories),
        layers=_codes(layers),
        cell_m=cell_m,
        bands_m=bands_m,
        seed=seed,
        validation_months=validation_months,
        strata=strata,
    )
    with transaction() as session, console.status("Construyendo grilla, variables y modelo…"):
        snapshot = service.compute_snapshot(
            session, request, computed_by=f"cli:{getpass.getuser()}"
        )
        table = Table(
            title=(
                f"Terreno de riesgo comuna {snapshot.comuna_code}, "
                f"{snapshot.period_start} a {snapshot.period_end} "
                f"({snapshot.meta['cells']} celdas de {snapshot.cell_m:g} m, "
                f"{snapshot.meta['events']} denuncias, {snapshot.meta['family']})"
            )
        )
        for column in ("Capa", "Variable", "Banda", "RR", "IC 95 %", "p"):
            table.add_column(column)
        for f in snapshot.factors:
            table.add_row(
                f["layer"],
                f["operationalisation"],
                f"{f['band_m']:g} m",
                f"{f['rr']:.2f}",
                f"{f['ci_low']:.2f} a {f['ci_high']:.2f}",
                f"{f['p_value']:.3g}",
            )
        console.print(table)
        if not snapshot.factors:
            out.print("Ningún factor retenido: ninguna capa eleva el riesgo de forma detectable.")
        out.print(f"id: {snapshot.id}")
        out.print(f"huella de entradas: {snapshot.input_fingerprint}", soft_wrap=True)
        out.print(f"huella de resultados: {snapshot.result_fingerprint}", soft_wrap=True)
