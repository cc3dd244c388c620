"""Engine and session factories. Nothing here connects at import time."""

import select
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import pq, sql
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

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
    connection.exec_driver_sql(f"SET LOCAL {CUSTOM_PLANS}")


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
