"""Engine and session factories. Nothing here connects at import time."""

import select
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from psycopg import pq, sql
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler

from app.settings import DatabaseSettings

QUERY_CANCELED = "57014"  # SQLSTATE of a statement cut by statement_timeout

# Session settings of every connection Vigía opens (measured in docs/benchmarks.md):
# - jit: compiling a plan cost up to a second on tiles and large item pages, never paid back;
# - parallel workers: starting one costs 5-10 ms, more than a tile or a page takes to run
#   (z15 tiles went from 13.5 to 7.5 ms without them).
# Custom plans are NOT forced here: re-planning every execution made complaint imports 30 %
# slower. The statements where a generic plan hurts (aggregated tiles, the ranking's
# aggregation) ask for them with `use_custom_plans`.
SESSION_SETTINGS = {
    "jit": "off",
    "max_parallel_workers_per_gather": "0",
}
# The generic plan PostgreSQL caches after five runs of a prepared statement ignores the
# values (a tile's envelope, a comuna and period): 1.8x slower on z10 tiles, 2.2x on the
# ranking's aggregation (docs/benchmarks.md).
CUSTOM_PLANS = "plan_cache_mode = force_custom_plan"


def use_custom_plans(connection: Connection) -> None:
    """Plan this transaction's statements for their own values (see CUSTOM_PLANS)."""
    driver_execute(connection, _CUSTOM_PLANS_STATEMENT, {})


# --- statements run on the driver's cursor ------------------------------------------------
# SQLAlchemy's execution of a statement (cache lookup, execution context, parameter and
# result processing, Row objects) cost 100-400 µs over psycopg's own on the statements of a
# small OGC page or tile, a tenth of the request (docs/benchmarks.md, «Quinta vuelta»).
# The statements read on every page and tile are built once and cached by their callers,
# so they are compiled once here and run on the driver; errors are still SQLAlchemy's.

_compiled: dict[int, tuple[Any, str, SQLCompiler]] = {}
_compiled_lock = threading.Lock()
_CUSTOM_PLANS_STATEMENT = text("SET LOCAL " + CUSTOM_PLANS)


def driver_execute(
    connection: Connection, statement: Any, values: Mapping[str, Any]
) -> psycopg.Cursor[Any]:
    """Run `statement` (an object the caller keeps and reuses: it is compiled once, keyed by
    identity) with `values` on the driver connection behind `connection`, inside its
    transaction; return the driver's cursor (plain tuples).

    A driver error is raised as SQLAlchemy's (`DBAPIError` and subclasses, with `.orig`),
    as `Connection.execute` would, so the problem handlers and the CQL2 filter's 400 read it
    the same way; a connection the error left broken is dropped at its next checkout
    (`looks_alive`). Statements whose SQL is only known at execution (expanding IN lists)
    take SQLAlchemy's own path.
    """
    entry = _compiled.get(id(statement))
    if entry is None or entry[0] is not statement:
        compiled = cast(SQLCompiler, statement.compile(dialect=connection.dialect))
        entry = (statement, str(compiled), compiled)
        with _compiled_lock:
            if len(_compiled) > 4096:  # statements are cached by shape: never this many
                _compiled.clear()
            _compiled[id(statement)] = entry
    _, text_sql, compiled = entry
    if not connection.in_transaction():  # so that its commit() commits what runs here
        connection.begin()
    if "POSTCOMPILE" in text_sql:
        result = connection.execute(statement, dict(values))
        return cast(psycopg.Cursor[Any], result.cursor)
    params = dict(compiled.construct_params(dict(values)) or {})
    # the literal types' own conversions (bytea, bool), as SQLAlchemy applies them
    processors = getattr(compiled, "_bind_processors", {})
    for name, process in processors.items():
        if name in params and params[name] is not None:
            params[name] = process(params[name])
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        return driver.execute(text_sql, params)
    except psycopg.Error as exc:
        raise DBAPIError.instance(
            text_sql, params, exc, psycopg.Error, dialect=connection.dialect
        ) from exc


def looks_alive(dbapi_connection: Any) -> bool:
    """Whether a pooled connection is still usable, judged without a round trip.

    An idle connection has nothing to read: if its socket is readable, the server has
    closed it (a restart, `pg_terminate_backend`, `idle_session_timeout`: PostgreSQL sends
    its FATAL message and hangs up) or it is out of step; either way it is dropped. This
    replaces `pool_pre_ping`, whose `SELECT 1` cost a round trip on every request (~0.2 ms,
    a tenth of a small page). What neither catches: a connection that dies silently (the
    network, not the server) — the request then fails and the pool is invalidated, as it
    would have been after the ping's own timeout.
    """
    pgconn = dbapi_connection.pgconn
    if pgconn.status != pq.ConnStatus.OK or (
        pgconn.transaction_status != pq.TransactionStatus.IDLE
    ):
        return False
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
    return not poller.poll(0)


def make_engine(settings: DatabaseSettings) -> Engine:
    """The service's engine: a short pool timeout, so a full pool is a quick 503, not a hang."""
    return _engine(
        settings,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_timeout=settings.pool_timeout_s,
        connect_timeout_s=5,
        statement_timeout_ms=settings.statement_timeout_ms,
        application_name="vigia",
    )


def make_health_engine(settings: DatabaseSettings) -> Engine:
    """One connection of its own for /health, so it answers within a second even when the
    service's pool is exhausted: an orchestrator can tell "busy" from "dead"."""
    return _engine(
        settings,
        pool_size=1,
        max_overflow=1,
        pool_timeout=0.5,
        connect_timeout_s=1,
        statement_timeout_ms=500,
        application_name="vigia-health",
    )


def _engine(
    settings: DatabaseSettings,
    *,
    pool_size: int,
    max_overflow: int,
    pool_timeout: float,
    connect_timeout_s: int,
    statement_timeout_ms: int,
    application_name: str,
) -> Engine:
    engine = create_engine(
        settings.database_url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        connect_args={
            "connect_timeout": connect_timeout_s,
            "application_name": application_name,
            "options": " ".join(
                f"-c {name}={value}"
                for name, value in {
                    "statement_timeout": str(statement_timeout_ms),
                    **SESSION_SETTINGS,
                }.items()
            ),
        },
    )

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        if not looks_alive(dbapi_connection):
            # the pool discards this connection and checks out (or opens) another
            raise DisconnectionError("la conexión del pool ya no está viva")

    @event.listens_for(engine, "connect")
    def _utc(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Timestamps travel as UTC; presentation converts to America/Santiago.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
            if settings.role:
                # identifiers cannot be bound: quote it as one (it is also pattern-checked)
                cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(settings.role)))
        dbapi_connection.commit()

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction for a CLI operation: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
