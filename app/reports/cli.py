"""`vigia report`: generate the council bulletin, the SPD progress report and the annual
report; list what was generated; enter plan indicator values by hand.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import typer
from rich.table import Table

from app.cli.common import console, out, transaction
from app.models import ReportFormat, ReportKind
from app.reports import store
from app.reports.generate import generate, public_annual
from app.territory.service import resolve_comuna

app = typer.Typer(help="Informes: boletín del Consejo, avance a la SPD, cuenta pública anual.")

FormatOpt = typer.Option(ReportFormat.PDF, "--format", help="pdf o html.")
ComunaOpt = typer.Option(None, "--comuna", help="Código CUT (por defecto, la única cargada).")
OutputOpt = typer.Option(None, "--output", "-o", help="Además, escribir el archivo aquí.")
AsOfOpt = typer.Option(
    None,
    "--as-of",
    help="Corte de datos (ISO 8601, p. ej. el data_as_of de un informe anterior para "
    "reproducirlo); por defecto, ahora.",
)


def _as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        console.print(f"[red]--as-of no es una fecha ISO 8601:[/red] {text}")
        raise typer.Exit(2) from None
    if value.tzinfo is None:
        console.print("[red]--as-of debe incluir el desfase horario (p. ej. -03:00).[/red]")
        raise typer.Exit(2)
    return value


def _run(
    kind: ReportKind,
    period: str,
    fmt: ReportFormat,
    comuna: str | None,
    output: Path | None,
    as_of: str | None,
) -> None:
    cutoff = _as_of(as_of)
    with transaction() as session, console.status("Preparando…") as status:

        def step(name: str) -> None:
            status.update(f"Generando: {name}…")
            console.log(name)

        report = generate(
            session,
            kind=kind,
            period=period,
            fmt=fmt,
            comuna=comuna,
            created_by="cli",
            as_of=cutoff,
            step=step,
            location="option",
        )
        content = store.get_report(session, report.id, with_content=True).content
        name = store.filename(report)
        summary = (
            f"[green]Listo:[/green] informe {report.id} ({name}, {report.size_bytes:,} bytes, "
            f"sha256 {report.sha256[:12]}…, datos hasta {report.data_as_of.isoformat()})"
        )
    if output is not None:
        target = output / name if output.is_dir() else output
        target.write_bytes(content)
        console.print(f"Escrito en {target}")
    console.print(summary)


@app.command("bulletin")
def bulletin(
    month: str = typer.Option(..., "--month", help="Mes, AAAA-MM."),
    fmt: ReportFormat = FormatOpt,
    comuna: str | None = ComunaOpt,
    output: Path | None = OutputOpt,
    as_of: str | None = AsOfOpt,
) -> None:
    """Boletín mensual del Consejo Comunal (interno), con gráficos y mapas."""
    _run(ReportKind.BULLETIN, month, fmt, comuna, output, as_of)


@app.command("spd")
def spd(
    month: str = typer.Option(..., "--month", help="Último mes del avance (AAAA-MM)."),
    fmt: ReportFormat = FormatOpt,
    comuna: str | None = ComunaOpt,
    output: Path | None = OutputOpt,
    as_of: str | None = AsOfOpt,
) -> None:
    """Informe de avance del plan a la SPD: desde enero hasta el mes indicado."""
    _run(ReportKind.SPD, month, fmt, comuna, output, as_of)


@app.command("annual")
def annual(
    year: str = typer.Option(..., "--year", help="Año, AAAA."),
    fmt: ReportFormat = FormatOpt,
    comuna: str | None = ComunaOpt,
    output: Path | None = OutputOpt,
    as_of: str | None = AsOfOpt,
    public: bool = typer.Option(
        False,
        "--public",
        help="Versión pública: cifras suprimidas, sin secciones internas; no se guarda en "
        "la base, se escribe en --output (o en el directorio actual).",
    ),
) -> None:
    """Cuenta pública anual: interna, o con --public la versión para la comunidad."""
    if not public:
        _run(ReportKind.ANNUAL, year, fmt, comuna, output, as_of)
        return
    cutoff = _as_of(as_of)
    with transaction() as session:
        name, content = public_annual(
            session, year=year, fmt=fmt, comuna=comuna, as_of=cutoff, location="option"
        )
    target = output or Path(name)
    target = target / name if target.is_dir() else target
    target.write_bytes(content)
    console.print(f"[green]Listo:[/green] versión pública escrita en {target}")


@app.command("list")
def list_command(
    comuna: str | None = typer.Option(None, "--comuna", help="Código CUT."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
) -> None:
    """Informes generados, del más reciente al más antiguo."""
    with transaction() as session:
        reports = store.list_reports(session, comuna=comuna, limit=limit)
        table = Table("id", "tipo", "período", "formato", "creado", "por", "bytes", "sha256")
        for r in reports:
            table.add_row(
                str(r.id),
                r.kind.value,
                r.period,
                r.format.value,
                r.created_at.isoformat(timespec="seconds"),
                r.created_by,
                f"{r.size_bytes:,}",
                r.sha256[:16],
            )
    out.print(table)


@app.command("set-indicator")
def set_indicator_command(
    code: str = typer.Argument(..., help="Código del indicador en el archivo del plan."),
    year: int = typer.Option(..., "--year", min=2000, max=2100, help="Año del valor."),
    value: str = typer.Option(..., "--value", help="Valor (número; porcentajes de 0 a 100)."),
    note: str | None = typer.Option(None, "--note", help="Fuente o comentario."),
    by: str = typer.Option(..., "--by", help="Quién ingresa el valor."),
    comuna: str | None = ComunaOpt,
    plan_file: Path | None = typer.Option(
        None, "--plan", help="Archivo del plan (YAML); por omisión, el del repositorio."
    ),
) -> None:
    """Ingresa a mano el valor de un indicador que Vigía no calcula (p. ej. sesiones)."""
    try:
        number = Decimal(value.replace(",", "."))
    except InvalidOperation:
        console.print(f"[red]--value no es un número:[/red] {value}")
        raise typer.Exit(2) from None
    # imported here, not with the module: the plan (pydantic, YAML, the API's code types)
    # would slow down every `vigia report` command, the bulletin among them
    from app.reports.plan import DEFAULT_PLAN, load_plan, set_indicator  # noqa: PLC0415

    with transaction() as session:
        plan = load_plan(plan_file or DEFAULT_PLAN)
        entry = set_indicator(
            session,
            plan,
            comuna=resolve_comuna(session, comuna).code,
            code=code,
            year=year,
            value=number,
            note=note,
            entered_by=by,
        )
        console.print(
            f"[green]Guardado:[/green] {entry.indicator_code} {entry.period} = {entry.value}"
        )


@app.command("evaluate")
def evaluate_command(
    project_id: int = typer.Argument(..., help="Proyecto terminado."),
    radius_m: int = typer.Option(300, "--radius-m", help="Radio en torno a los factores."),
    catchment_m: int = typer.Option(300, "--catchment-m", help="Ancho del anillo de entorno."),
    window_days: int = typer.Option(365, "--window-days", help="Días de cada ventana."),
    categories: str | None = typer.Option(
        None, "--categories", help="Categorías separadas por comas; por defecto, la tipología."
    ),
    hours: str | None = typer.Option(None, "--hours", help="noche o todas."),
    terrain_id: str | None = typer.Option(
        None, "--terrain-id", help="Modelo de terreno de riesgo cuyas celdas son el área."
    ),
    terrain_cells: str | None = typer.Option(
        None, "--terrain-cells", help="top_5, top_10 (por defecto), top_20 o proyecto."
    ),
    keep: bool = typer.Option(False, "--store", help="Guardar la evaluación para citarla."),
) -> None:
    """Evalúa un proyecto terminado (diferencias en diferencias, entorno, veredicto)."""
    import getpass  # noqa: PLC0415
    import uuid  # noqa: PLC0415
    from datetime import UTC  # noqa: PLC0415

    from app.reports.evaluation import EvaluationRequest, evaluate_project  # noqa: PLC0415
    from app.reports.evaluation_store import store_evaluation  # noqa: PLC0415
    from app.reports.schemas import EvaluationRead  # noqa: PLC0415

    try:
        terrain = uuid.UUID(terrain_id) if terrain_id else None
    except ValueError as exc:
        raise typer.BadParameter("--terrain-id debe ser un identificador (UUID)") from exc
    request = EvaluationRequest(
        radius_m=radius_m,
        catchment_m=catchment_m,
        window_days=window_days,
        categories=tuple(c.strip() for c in categories.split(",")) if categories else None,
        hours=hours,
        terrain_id=terrain,
        terrain_cells=terrain_cells,
    )
    now = datetime.now(UTC)
    with transaction() as session:
        read: EvaluationRead
        if keep:
            read = store_evaluation(
                session, project_id, request, as_of=now, computed_by=f"cli:{getpass.getuser()}"
            )
        else:
            read = evaluate_project(session, project_id, request, as_of=now)
        out.print(read.summary)
        out.print(read.verdict)
        if read.terrain is not None:
            out.print(
                f"Área: {read.terrain.cell_count} celdas ({read.terrain.cells}) del modelo "
                f"{read.terrain.snapshot_id}"
            )
        out.print(f"huella de entradas: {read.input_fingerprint}", soft_wrap=True)
        if keep:
            out.print(f"id: {getattr(read, 'id', '')}")
