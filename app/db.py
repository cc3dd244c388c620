"""Engine and session factories. Nothing here connects at import time."""

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import sql
from sqlalchemy import Connection, Engine, create_engine, event
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


def make_engine(settings: DatabaseSettings) -> Engine:
    engine = create_engine(
        settings.database_url,
        pool_size=settings.pool_size,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": 5,
            "application_name": "vigia",
            "options": " ".join(
                f"-c {name}={value}"
                for name, value in {
                    "statement_timeout": str(settings.statement_timeout_ms),
                    **SESSION_SETTINGS,
                }.items()
            ),
        },
    )

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
