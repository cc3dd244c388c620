"""What every command shares: a console, the database, and turning errors into messages."""

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.db import QUERY_CANCELED, make_engine, make_sessionmaker, unit_of_work
from app.errors import VigiaError
from app.settings import get_database_settings

console = Console(stderr=True)
out = Console()


def engine() -> Engine:
    return make_engine(get_database_settings())


@contextmanager
def transaction(*, audited: bool = True) -> Iterator[Session]:
    """One all-or-nothing transaction; domain errors become a readable message and exit 1.

    The session's audit events name the operator (`cli:<user>`). A command that only reads
    what no audit rule covers passes `audited=False` and skips importing the audit trail
    (its signing keys and models: ~0.1 s of a command that should take less than 0.5 s);
    an event recorded in such a session would not name the operator.
    """
    eng = engine()
    try:
        with unit_of_work(make_sessionmaker(eng)) as session:
            if audited:
                from app.audit import trail as audit

                audit.bind_cli(session)
            yield session
    except VigiaError as exc:
        report_error(exc)
        raise typer.Exit(1) from exc
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED:
            console.print(
                "[red]Una consulta superó el tiempo máximo[/red] (VIGIA_STATEMENT_TIMEOUT_MS = "
                f"{get_database_settings().statement_timeout_ms} ms); no se escribió nada."
            )
        else:
            console.print(f"[red]No se pudo conectar a la base de datos:[/red] {exc.orig}")
        raise typer.Exit(2) from exc
    finally:
        eng.dispose()


def report_error(exc: VigiaError) -> None:
    # soft_wrap: an error is read, copied and searched whole, never cut at the terminal width
    console.print(f"[bold red]Error:[/bold red] {escape(exc.detail)}", soft_wrap=True)
    for problem in exc.errors:
        where = []
        if "index" in problem:
            where.append(f"feature {problem['index']}")
        if "row" in problem:
            where.append(f"fila {problem['row']}")
        if "code" in problem:
            where.append(problem["code"])
        prefix = escape(f"[{', '.join(where)}] ") if where else ""
        field = escape(problem.get("field", ""))
        console.print(
            f"  • {prefix}[cyan]{field}[/cyan]: {escape(problem['reason'])}", soft_wrap=True
        )
