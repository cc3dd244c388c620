"""`app.db.driver_execute`: the cached statements of pages, tiles and read events run on the
driver's cursor, with SQLAlchemy's errors and transaction."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, bindparam, column, func, literal, select, text
from sqlalchemy.exc import DataError, DBAPIError

from app.db import driver_execute, make_engine
from app.settings import DatabaseSettings


@pytest.fixture
def app_engine(database_url: str) -> Engine:
    return make_engine(DatabaseSettings(database_url=database_url))


def test_values_literals_and_their_types_arrive_as_sqlalchemy_would_send_them(
    app_engine: Engine,
) -> None:
    statement = select(
        func.coalesce(literal(b""), b"x"),  # bytea and bool literals, as in a tile
        literal(False),
        bindparam("n", type_=None) + 1,
    )
    with app_engine.connect() as conn:
        row = driver_execute(conn, statement, {"n": 41}).fetchone()
        assert row == (b"", False, 42)
        assert conn.execute(statement, {"n": 41}).one() == (b"", False, 42)


def test_an_in_list_known_only_at_execution_takes_sqlalchemy_s_path(app_engine: Engine) -> None:
    values = select(func.unnest(text("ARRAY['a','b','c']")).label("v")).subquery()
    statement = select(values.c.v).where(values.c.v.in_(bindparam("wanted", expanding=True)))
    with app_engine.connect() as conn:
        rows = driver_execute(conn, statement, {"wanted": ["a", "c"]}).fetchall()
    assert sorted(r[0] for r in rows) == ["a", "c"]


def test_a_driver_error_is_raised_as_sqlalchemy_s_with_its_sqlstate(app_engine: Engine) -> None:
    statement = select(literal(1) / column("zero")).select_from(text("(SELECT 0 AS zero) AS z"))
    with app_engine.connect() as conn, pytest.raises(DBAPIError) as raised:
        driver_execute(conn, statement, {})
    assert isinstance(raised.value, DataError)  # the class the 400 of a CQL2 filter reads
    assert raised.value.orig.sqlstate == "22012"  # type: ignore[union-attr]


def test_what_runs_on_the_driver_is_committed_by_the_connection(app_engine: Engine) -> None:
    name = f"driver_{uuid.uuid4().hex[:8]}"
    create = text(f"CREATE TABLE {name} (n int)")  # a name made here, not user input
    with app_engine.connect() as conn:
        assert not conn.in_transaction()
        driver_execute(conn, create, {}).close()
        conn.commit()
    with app_engine.connect() as conn:
        assert conn.scalar(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": name})
        conn.execute(text(f"DROP TABLE {name}"))
        conn.commit()
