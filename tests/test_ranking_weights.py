"""The ranking's contiguity weights: built once per geometry, rebuilt when a boundary moves."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.rankings.inputs import unit_geometry, unit_weights
from app.scoring import contiguity_weights
from app.scoring.inputs import adjacency

LEVEL, COMUNA = "micro_barrio", "14103"


def _queen(db: Session) -> dict[str, list[str]]:
    return adjacency(contiguity_weights(unit_geometry(db, level=LEVEL, comuna=COMUNA)))


def test_unit_weights_are_the_queen_weights_of_the_stored_polygons(db: Session) -> None:
    expected = _queen(db)

    first = unit_weights(db, level=LEVEL, comuna=COMUNA)
    again = unit_weights(db, level=LEVEL, comuna=COMUNA)  # from the cache

    assert len(expected) == 19
    assert adjacency(first) == expected
    assert adjacency(again) == expected
    assert again is not first  # esda sets the transform of the W it gets: never shared
    first.transform = "r"
    assert set(unit_weights(db, level=LEVEL, comuna=COMUNA).weights["B01001-03"]) == {1.0}


def test_a_moved_boundary_gets_new_weights(db: Session) -> None:
    before = unit_weights(db, level=LEVEL, comuna=COMUNA)
    moved = "B01001-03"
    assert adjacency(before)[moved]  # it touches other micro-barrios
    db.execute(
        text("UPDATE micro_barrio SET geom = ST_Translate(geom, 1.0, 0.0) WHERE code = :code"),
        {"code": moved},
    )

    after = unit_weights(db, level=LEVEL, comuna=COMUNA)

    assert adjacency(after) == _queen(db)
    assert adjacency(after)[moved] == []
