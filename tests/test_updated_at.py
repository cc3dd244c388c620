"""`updated_at` is kept by the database (migration 0009_updated_at), never by hand."""

from __future__ import annotations

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from app.models import Barrio, Base, Comuna


def test_every_table_with_updated_at_has_the_trigger(db: Session) -> None:
    with_column = sorted(t.name for t in Base.metadata.sorted_tables if "updated_at" in t.c)
    triggered = db.scalars(
        text(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'trg_' || c.relname || '_updated_at' AND NOT t.tgisinternal "
            "ORDER BY 1"
        )
    ).all()
    assert with_column
    assert triggered == with_column


def test_an_update_moves_updated_at_however_it_is_issued(db: Session) -> None:
    # the territory was loaded in an earlier transaction; now() is this test's transaction
    now = db.scalar(text("SELECT now()"))
    comuna = db.get(Comuna, "14103")
    assert comuna is not None
    assert comuna.updated_at < now
    barrio_before = db.scalar(select(Barrio.updated_at).where(Barrio.code == "B01001"))
    assert barrio_before is not None
    assert barrio_before < now

    comuna.name = f"{comuna.name} (editada)"  # the ORM
    db.flush()
    db.execute(update(Barrio).where(Barrio.code == "B01001").values(name="Centro (editado)"))

    assert comuna.updated_at == now  # reloaded after the flush (FetchedValue)
    assert db.scalar(select(Barrio.updated_at).where(Barrio.code == "B01001")) == now
    untouched = db.scalar(select(Barrio.updated_at).where(Barrio.code == "B01002"))
    assert untouched is not None
    assert untouched < now
