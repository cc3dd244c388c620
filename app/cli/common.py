"""What every command shares: a console, the database, and turning errors into messages."""

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.db import QUERY_CANCELED, make_engine, make_sessionmaker, unit_of_work
from app.errors import VigiaError
from app.settings import get_database_settings

console = Console(stderr=True)
out = Console()


def engine() -> Engine:
    return make_engine(get_database_settings())


@contextmanager
def transaction() -> Iterator[Session]:
    """One all-or-nothing transaction; domain errors become a readable message and exit 1."""
    eng = engine()
    try:
        with unit_of_work(make_sessionmaker(eng)) as session:
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
    console.print(f"[bold red]Error:[/bold red] {escape(exc.detail)}")
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
        console.print(f"  • {prefix}[cyan]{field}[/cyan]: {escape(problem['reason'])}")
