"""`vigia council`: the council registry from the command line (the executive secretary's
tasks, audited as `cli:<user>`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from app.cli.common import console, out, transaction

app = typer.Typer(help="Consejo Comunal: integrantes, sesiones, compromisos.", no_args_is_help=True)
ComunaOpt = typer.Option(None, "--comuna", help="Código CUT (si hay varias comunas cargadas).")


@app.command("seats")
def seats_command(comuna: str | None = ComunaOpt) -> None:
    """Asientos del Consejo y quién ocupa cada uno."""
    from app.council.queries import list_seats  # noqa: PLC0415

    with transaction(audited=False) as session:
        table = Table("asiento", "institución", "representante")
        for seat in list_seats(session, comuna):
            table.add_row(seat.seat, escape(seat.institution), escape(seat.representative or "—"))
        out.print(table)


@app.command("set-member")
def set_member_command(
    seat: str = typer.Argument(..., help="Código del asiento (vigia council seats)."),
    representative: str = typer.Option(..., "--representative", help="Nombre y cargo."),
    institution: str | None = typer.Option(
        None, "--institution", help="Por defecto la del asiento."
    ),
    comuna: str | None = ComunaOpt,
) -> None:
    """Designa o reemplaza al representante de un asiento."""
    from app.council.schemas import MemberUpdate  # noqa: PLC0415
    from app.council.service import set_member  # noqa: PLC0415

    with transaction() as session:
        data = MemberUpdate(representative=representative, institution=institution, comuna=comuna)
        set_member(session, seat, data)
    console.print(f"Asiento {seat}: {representative}.")


def _agreement(text: str) -> dict[str, str]:
    parts = [p.strip() for p in text.split("|")]
    if len(parts) != 3:
        console.print(f"[red]--agreement debe ser 'texto|institución|AAAA-MM-DD':[/red] {text}")
        raise typer.Exit(2)
    return {"text": parts[0], "responsible_institution": parts[1], "due_on": parts[2]}


@app.command("add-session")
def add_session_command(
    held_on: str = typer.Option(..., "--date", help="Fecha de la sesión (AAAA-MM-DD)."),
    kind: str = typer.Option("ordinaria", "--kind", help="ordinaria o extraordinaria."),
    present: str = typer.Option("", "--present", help="Asientos presentes, separados por coma."),
    agreements: list[str] = typer.Option(  # noqa: B008
        [], "--agreement", help="Compromiso 'texto|institución|AAAA-MM-DD' (repetible)."
    ),
    comuna: str | None = ComunaOpt,
) -> None:
    """Registra una sesión realizada con su asistencia y compromisos."""
    from pydantic import ValidationError  # noqa: PLC0415

    from app.council.schemas import SessionCreate  # noqa: PLC0415
    from app.council.service import create_session  # noqa: PLC0415

    try:
        data = SessionCreate(
            comuna=comuna,
            held_on=date.fromisoformat(held_on),
            kind=kind,
            present=[s for s in present.split(",") if s.strip()],
            agreements=[_agreement(a) for a in agreements],
        )
    except (ValueError, ValidationError) as exc:
        console.print(f"[red]Datos inválidos:[/red] {exc}")
        raise typer.Exit(2) from exc
    with transaction() as session:
        council = create_session(session, data, recorded_by="cli")
        session_id = council.id
    console.print(f"Sesión {session_id} registrada ({len(data.agreements)} compromisos).")


@app.command("minutes")
def minutes_command(
    session_id: int = typer.Argument(..., help="Sesión."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Acta (PDF, PNG, JPEG)."),
) -> None:
    """Guarda el acta firmada de una sesión."""
    from app.council.documents import read_document  # noqa: PLC0415
    from app.council.service import store_minutes  # noqa: PLC0415

    with transaction() as session, file.open("rb") as stream:
        store_minutes(session, session_id, read_document(stream, file.name))
    console.print(f"Acta de la sesión {session_id} guardada.")


@app.command("follow-up")
def follow_up_command(
    agreement_id: int = typer.Argument(..., help="Compromiso."),
    status: str = typer.Option(..., "--status", help="pendiente, en_curso, cumplido, descartado."),
    note: str = typer.Option(..., "--note", help="Lo informado."),
    session_id: int | None = typer.Option(None, "--session", help="Sesión donde se revisó."),
) -> None:
    """Registra el seguimiento de un compromiso."""
    from pydantic import ValidationError  # noqa: PLC0415

    from app.council.schemas import FollowUpCreate  # noqa: PLC0415
    from app.council.service import follow_up  # noqa: PLC0415

    try:
        data = FollowUpCreate(note=note, status=status, session_id=session_id)
    except ValidationError as exc:
        console.print(f"[red]Datos inválidos:[/red] {exc}")
        raise typer.Exit(2) from exc
    with transaction() as session:
        follow_up(session, agreement_id, data, recorded_by="cli")
    console.print(f"Compromiso {agreement_id}: {status}.")


@app.command("agreements")
def agreements_command(
    overdue: bool = typer.Option(False, "--overdue", help="Solo los vencidos."),
    comuna: str | None = ComunaOpt,
) -> None:
    """Compromisos por plazo, con su estado."""
    from app.council.queries import list_agreements  # noqa: PLC0415

    with transaction(audited=False) as session:
        rows = list_agreements(session, comuna, overdue=True if overdue else None)
    table = Table("id", "plazo", "responsable", "estado", "compromiso")
    for a in rows:
        state = a.status.value + (" (vencido)" if a.overdue else "")
        table.add_row(
            str(a.id),
            a.due_on.isoformat(),
            escape(a.responsible_institution),
            state,
            escape(a.text),
        )
    out.print(table)


@app.command("agenda")
def agenda_command(session_id: int = typer.Argument(..., help="Sesión.")) -> None:
    """Compromisos que la sesión debe revisar (abiertos, vencidos o por vencer)."""
    from app.council.queries import agenda  # noqa: PLC0415

    with transaction(audited=False) as session:
        result = agenda(session, session_id)
    out.print(f"Tabla de la sesión {session_id} ({result.held_on.isoformat()}):")
    for a in result.due:
        late = " (vencido)" if a.overdue else ""
        out.print(escape(f"  • {a.text} — {a.responsible_institution}, plazo {a.due_on}{late}"))
    if not result.due:
        out.print("  (sin compromisos pendientes)")


@app.command("indicators")
def indicators_command(
    year: int = typer.Option(..., "--year", min=2000, max=2100),
    comuna: str | None = ComunaOpt,
) -> None:
    """Sesiones por mes, asistencia por institución y compromisos cumplidos a tiempo."""
    from app.council.queries import indicators_read  # noqa: PLC0415
    from app.reports.period import year_period  # noqa: PLC0415

    with transaction(audited=False) as session:
        r = indicators_read(session, comuna, year_period(year))
    out.print(
        f"{r.sessions} sesiones ({r.ordinary} ordinarias); meses con sesión "
        f"{r.months_with_session} de {r.months_elapsed}; compromisos a tiempo "
        f"{r.agreements_on_time} de {r.agreements_due}; vencidos hoy {r.overdue_now}."
    )
    table = Table("institución", "presente", "posible", "%")
    for a in r.attendance:
        table.add_row(a.institution, str(a.present), str(a.possible), f"{a.share or 0:g}")
    out.print(table)
