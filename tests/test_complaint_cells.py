"""Precomputed low-zoom cells (app/ogc/cells.py): the same counts as the live aggregation.

Each tile is rendered twice in the same transaction: once with the comuna's cells current
(the precomputed rows answer) and once with them marked stale (the live count answers).
Both must draw the same cells with the same counts, and audit the same number of sensitive
complaints, for every scope and filter. The cells must stay correct across imports.
"""

from __future__ import annotations

import math
from typing import Any

import mapbox_vector_tile
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from app.complaints.ingest import import_complaints
from app.identity.caller import Caller
from app.models import ComplaintCell, ComplaintCellState, CrimeCategory, Role
from app.ogc import cells, filters, tiles
from app.ogc.registry import REGISTRY
from app.settings import TileSettings
from tests.factories.risk import LANCO_TOWN
from tests.factories.tables import COMUNA

SETTINGS = TileSettings()
COMPLAINTS = REGISTRY["complaints"]
CALLERS = {
    "planner": Caller(role=Role.PLANNER, institution="municipalidad"),
    "carabineros": Caller(role=Role.POLICE, institution="carabineros"),
    "pdi": Caller(role=Role.POLICE, institution="pdi"),
    "unit": Caller(role=Role.UNIT, institution="municipalidad", unit="dideco"),
}
FILTERS: list[tuple[str | None, dict[str, str]]] = [
    (None, {}),
    (None, {"comuna": COMUNA}),
    (None, {"comuna": "99999"}),
    (None, {"source": "pdi"}),
    (None, {"category": "556"}),  # the live count answers: the cells keep no category
    ("2025-03-01T00:00:00-03:00/2025-06-30T23:59:59.999-04:00", {}),  # nor the month
]


def _tile(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def _rows(prefix: str, n: int, sensitive: str) -> list[dict[str, Any]]:
    lon, lat = LANCO_TOWN
    return [
        {
            "external_ref": f"{prefix}-{i:04d}",
            "source": ("carabineros", "pdi", "municipal")[i % 3],
            "category": ("556", "155", sensitive)[i % 5 % 3],
            "occurred_at": f"2025-{1 + i % 12:02d}-15T12:00:00",
            # spread over ~3 km so cells and tiles differ from zoom to zoom
            "lon": lon + 0.03 * math.sin(i * 0.37) * (i % 7) / 7,
            "lat": lat + 0.02 * math.cos(i * 0.53) * (i % 11) / 11,
            "precision": "exact",
        }
        for i in range(n)
    ]


def _sensitive(db: Session) -> str:
    code = db.scalar(select(CrimeCategory.code).where(CrimeCategory.sensitive).limit(1))
    assert code is not None
    return code


def _draw(
    db: Session, caller: Caller, zxy: tuple[int, int, int], dt: str | None, props: dict[str, str]
) -> Any:
    tile_filter = filters.tile_filters(COMPLAINTS, dt, props)
    tile = tiles.render_tile(db, COMPLAINTS, caller, *zxy, SETTINGS, tile_filter)
    decoded = mapbox_vector_tile.decode(tile.data).get("complaints", {"features": []})
    drawn = sorted(
        (tuple(f["geometry"]["coordinates"]), f["properties"]["count"]) for f in decoded["features"]
    )
    return drawn, tile.audited


def _stale(db: Session) -> None:
    db.execute(update(ComplaintCellState).values(fresh=False))


def _fresh(db: Session) -> bool:
    return bool(
        db.scalar(select(ComplaintCellState.fresh).where(ComplaintCellState.comuna_code == COMUNA))
    )


def _refresh(db: Session) -> None:
    cells.refresh(db, SETTINGS.cell_px, SETTINGS.aggregate_below_zoom, [COMUNA])


@pytest.fixture
def loaded(db: Session) -> None:
    import_complaints(db, _rows("CELDA", 300, _sensitive(db)), loaded_by="pruebas de celdas")
    _refresh(db)
    assert _fresh(db)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("z", [6, 10, 12])
@pytest.mark.parametrize("who", sorted(CALLERS))
def test_precomputed_cells_count_what_the_live_aggregation_counts(
    db: Session, z: int, who: str
) -> None:
    zxy = _tile(*LANCO_TOWN, z)
    for dt, props in FILTERS:
        db.begin_nested()
        precomputed = _draw(db, CALLERS[who], zxy, dt, props)
        _stale(db)
        live = _draw(db, CALLERS[who], zxy, dt, props)
        db.rollback()
        assert precomputed == live, (dt, props)
    drawn, audited = _draw(db, CALLERS["planner"], _tile(*LANCO_TOWN, 6), None, {})
    assert len(drawn) > 1
    assert sum(count for _, count in drawn) == 300  # the whole test set, in cells
    assert audited == 300 // 5  # the sensitive category (i % 5 == 2), audited


@pytest.mark.usefixtures("loaded")
def test_the_cells_answer_when_current_and_only_then(db: Session) -> None:
    """Tampered cells show up in the tile while current, never once marked stale."""
    zxy = _tile(*LANCO_TOWN, 10)
    honest = _draw(db, CALLERS["planner"], zxy, None, {"comuna": COMUNA})
    db.execute(update(ComplaintCell).values(n=ComplaintCell.n + 1000))
    tampered = _draw(db, CALLERS["planner"], zxy, None, {"comuna": COMUNA})
    assert sum(c for _, c in tampered[0]) > sum(c for _, c in honest[0])  # the cells answered
    _stale(db)
    assert _draw(db, CALLERS["planner"], zxy, None, {"comuna": COMUNA}) == honest
    # cells built for another cell size or zoom range are not current either
    db.execute(update(ComplaintCellState).values(fresh=True, cell_px=SETTINGS.cell_px * 2))
    assert _draw(db, CALLERS["planner"], zxy, None, {"comuna": COMUNA}) == honest


@pytest.mark.usefixtures("loaded")
def test_the_cells_stay_correct_after_an_import(db: Session) -> None:
    zxy = _tile(*LANCO_TOWN, 6)  # holds every test complaint
    before = _draw(db, CALLERS["planner"], zxy, None, {"comuna": COMUNA})
    import_complaints(db, _rows("NUEVA", 40, _sensitive(db)), loaded_by="pruebas de celdas")
    assert not _fresh(db)  # the trigger marked the comuna stale
    after = _draw(db, CALLERS["planner"], zxy, None, {"comuna": COMUNA})
    assert sum(c for _, c in after[0]) == sum(c for _, c in before[0]) + 40  # live meanwhile
    _refresh(db)
    assert _fresh(db)
    assert _draw(db, CALLERS["planner"], zxy, None, {"comuna": COMUNA}) == after
    db.begin_nested()
    _stale(db)
    assert _draw(db, CALLERS["planner"], zxy, None, {"comuna": COMUNA}) == after
    db.rollback()


@pytest.mark.usefixtures("loaded")
def test_only_changes_that_move_a_count_mark_the_comuna_stale(db: Session) -> None:
    db.execute(text("UPDATE complaint SET address = 'otra' WHERE external_ref = 'CELDA-0001'"))
    assert _fresh(db)
    db.execute(
        text(
            "UPDATE complaint SET geom = ST_Translate(geom, 0.001, 0)"
            " WHERE external_ref = 'CELDA-0001'"
        )
    )
    assert not _fresh(db)
    _refresh(db)
    db.execute(text("DELETE FROM complaint WHERE external_ref = 'CELDA-0002'"))
    assert not _fresh(db)
    _refresh(db)
    db.execute(update(CrimeCategory).where(CrimeCategory.code == "556").values(sensitive=True))
    assert not _fresh(db)
