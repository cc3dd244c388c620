"""Precomputed low-zoom cells of the `complaints` tiles: the same counts, without the points.

Below the aggregation zoom a complaints tile counts its points per cell. On a regional
comuna that is ~10,000 points read and projected per tile; `complaint_cell` holds those
counts per comuna, zoom, tile, cell and institution (`source`, the only complaint column a
row scope reads), so an unfiltered tile sums a few hundred rows.

Only the filters the rows can answer use them: none, `comuna`, `source`. A period or a
category goes to the live count: a table per month and category would hold about one row
per complaint at the zooms the map opens on (z10: 669,000 cell-months and 290,000
cell-categories for 1,000,000 complaints, docs/benchmarks.md), and a filtered tile reads
fewer points anyway. The caller's row scope is the collection's own rule (`ROW_SCOPES`)
rewritten onto the cells' columns; a rule that reads any other column keeps the live count.

Freshness, without a stale count ever drawn: triggers (migration 0011) mark a comuna stale
in `complaint_cell_state` whenever a statement inserts, deletes or moves its complaints (or
a category's sensitivity changes), and a tile statement checks, in the same snapshot, that
every comuna it may count is fresh and was built for this cell size and zoom; otherwise it
counts live. `refresh` rebuilds stale comunas set-based (after imports, `vigia demo-data`
and `vigia tiles refresh`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors

from app.identity.caller import Caller
from app.models import Complaint, ComplaintCell, ComplaintCellState, Comuna, CrimeCategory
from app.models.complaint import located as with_point
from app.ogc import filters
from app.ogc.collections import Collection
from app.ogc.grid import EXTENT, cell_of, tile_bounds, tile_of
from app.settings import get_tile_settings

COLLECTION = "complaints"
# the queryables the cells carry, named as the collection names them
_CELL_PROPERTIES = {"comuna": "comuna_code", "source": "source"}

_cell = ComplaintCell.__table__
_state = ComplaintCellState.__table__


class _NotOnCells(Exception):
    """A scope rule reads a column the cells do not keep."""


def _on_cells(rule: Any) -> Any:
    """A complaint row-scope expression rewritten onto `complaint_cell`'s columns."""

    def swap(element: Any, **_: Any) -> Any:
        if isinstance(element, Column) and element.table is Complaint.__table__:
            if element.name not in _CELL_PROPERTIES.values():
                raise _NotOnCells(element.name)
            return _cell.c[element.name]
        return None

    return visitors.replacement_traverse(rule, {}, swap)


def _usable(collection: Collection, shape: filters.FilterShape) -> bool:
    return (
        collection.id == COLLECTION
        and not (shape.bbox or shape.start or shape.end or shape.offset or shape.one)
        and set(shape.properties) <= set(_CELL_PROPERTIES)
    )


def _fresh_for(shape: filters.FilterShape, cell_px: int) -> Any:
    """True when every comuna the tile may count has current cells for this size and zoom."""
    current = and_(
        _state.c.fresh,
        _state.c.cell_px == cell_px,
        _state.c.below_zoom > bindparam("tile_z", type_=Integer),
    )
    stale = (
        select(literal(1))
        .select_from(Comuna.__table__.outerjoin(_state, _state.c.comuna_code == Comuna.code))
        .where(~func.coalesce(current, false()))
    )
    if "comuna" in shape.properties:
        stale = stale.where(Comuna.code == bindparam("prop_comuna"))
    return ~exists(stale)


def with_cells(
    collection: Collection, who: Caller | None, live: Any, cell_px: int, shape: filters.FilterShape
) -> Any:
    """The aggregated tile statement `live` (mvt, capped[, audited, ids]), answered from the
    precomputed cells when they are current and can answer it; `live` itself otherwise."""
    if not _usable(collection, shape) or who is None:
        return live
    try:
        scope = [_on_cells(rule(who)) for rule in collection.row_scopes]
    except _NotOnCells:
        return live
    rows = (
        select(
            _cell.c.cx,
            _cell.c.cy,
            _cell.c.n,
            _cell.c.n_sensitive,
            _cell.c.comuna_code.label("comuna"),
            _cell.c.source.cast(String).label("source"),  # as the collection's `source`
        )
        .where(
            _cell.c.z == bindparam("tile_z", type_=Integer),
            _cell.c.x == bindparam("tile_x", type_=Integer),
            _cell.c.y == bindparam("tile_y", type_=Integer),
            *scope,
        )
        .subquery("cs")
    )
    centre = func.ST_Point((rows.c.cx + 0.5) * cell_px, (rows.c.cy + 0.5) * cell_px)
    counted = (
        select(
            centre.label("geom"),
            cast(func.sum(rows.c.n), Integer).label("count"),
            func.sum(rows.c.n_sensitive).label("audited"),
        )
        .where(*filters.filter_conditions(collection, rows, shape))
        .group_by(rows.c.cx, rows.c.cy)
        .cte("pre_cells")
    )
    drawn = select(counted.c.geom, counted.c.count).subquery("pt")
    mvt = select(func.ST_AsMVT(drawn.table_valued(), literal(collection.id), EXTENT, "geom"))
    columns: list[Any] = [func.coalesce(mvt.scalar_subquery(), b""), literal(False)]
    if collection.audited is not None:
        total = select(func.coalesce(func.sum(counted.c.audited), 0))
        columns += [cast(total.scalar_subquery(), Integer), null()]
    fresh = _fresh_for(shape, cell_px)
    # One statement, one snapshot: PostgreSQL evaluates `fresh` once (an InitPlan) and runs
    # only the branch it selects.
    return union_all(select(*columns).where(fresh), live.where(~fresh))


# --- building -------------------------------------------------------------------------------


def _build(comuna: str, cell_px: int, below_zoom: int) -> Any:
    """INSERT of one comuna's cells at zooms 0 .. below_zoom - 1, each point in the cell the
    live count puts it in (`grid.cell_of` on the tile `grid.tile_of` finds)."""
    zooms = func.generate_series(0, below_zoom - 1).table_valued("z").render_derived("zs")
    x, y = tile_of(Complaint.geom, zooms.c.z)
    located = (
        select(
            Complaint.geom,
            Complaint.source,
            CrimeCategory.sensitive,
            zooms.c.z,
            cast(x, Integer).label("x"),
            cast(y, Integer).label("y"),
        )
        .join(CrimeCategory, CrimeCategory.code == Complaint.category_code)
        .join(zooms, literal(True))
        .where(Complaint.comuna_code == comuna, with_point())
        .cte("p")
    )
    # the bounds once per tile (a few thousand), not per point and zoom (a million)
    tile = select(located.c.z, located.c.x, located.c.y).distinct().subquery("t")
    envelope = func.ST_TileEnvelope(tile.c.z, tile.c.x, tile.c.y)
    bounds = (
        select(tile, *tile_bounds(envelope, cell_px).selected_columns)
        .cte("b")
        .prefix_with("MATERIALIZED")  # else inlined, and computed once per point again
    )
    cx, cy = cell_of(located.c.geom, bounds)
    same_tile = and_(
        bounds.c.z == located.c.z, bounds.c.x == located.c.x, bounds.c.y == located.c.y
    )
    placed = (
        select(located, cast(cx, Integer).label("cx"), cast(cy, Integer).label("cy"))
        .select_from(located.join(bounds, same_tile))
        .subquery("q")
    )
    per_side = EXTENT // cell_px
    counted = (
        select(
            literal(comuna),
            placed.c.z,
            placed.c.x,
            placed.c.y,
            placed.c.cx,
            placed.c.cy,
            placed.c.source,
            func.count(),
            func.count().filter(placed.c.sensitive),
        )
        .where(placed.c.cx.between(0, per_side - 1), placed.c.cy.between(0, per_side - 1))
        .group_by(placed.c.z, placed.c.x, placed.c.y, placed.c.cx, placed.c.cy, placed.c.source)
    )
    names = ["comuna_code", "z", "x", "y", "cx", "cy", "source", "n", "n_sensitive"]
    return insert(ComplaintCell).from_select(names, counted)


def stale_comunas(session: Session, cell_px: int, below_zoom: int) -> list[str]:
    current = and_(_state.c.fresh, _state.c.cell_px == cell_px, _state.c.below_zoom == below_zoom)
    rows = session.scalars(
        select(Comuna.code)
        .outerjoin(_state, _state.c.comuna_code == Comuna.code)
        .where(~func.coalesce(current, false()))
        .order_by(Comuna.code)
    )
    return list(rows)


def refresh(
    session: Session, cell_px: int, below_zoom: int, comunas: Sequence[str] | None = None
) -> list[str]:
    """Rebuild the cells of the stale comunas (or of `comunas`); returns the rebuilt codes.

    Commits once per comuna: a rebuild holds its comuna's state row locked (an import
    touching that comuna waits for it), so each lock is held for one comuna's rebuild only.
    The lock is taken before the rows are read: a concurrent import either committed before
    (its rows are counted) or marks the comuna stale again after this commit.
    """
    targets = list(comunas) if comunas is not None else stale_comunas(session, cell_px, below_zoom)
    for comuna in targets:
        lock = pg_insert(ComplaintCellState).values(
            comuna_code=comuna, fresh=False, cell_px=cell_px, below_zoom=below_zoom
        )
        session.execute(
            lock.on_conflict_do_update(index_elements=[_state.c.comuna_code], set_={"fresh": False})
        )
        session.execute(delete(ComplaintCell).where(ComplaintCell.comuna_code == comuna))
        # a regional comuna: seconds, and a million point-zooms grouped in memory
        session.execute(text("SET LOCAL statement_timeout = 0"))
        session.execute(text("SET LOCAL work_mem = '256MB'"))
        session.execute(_build(comuna, cell_px, below_zoom))
        session.execute(
            update(ComplaintCellState)
            .where(ComplaintCellState.comuna_code == comuna)
            .values(fresh=True, cell_px=cell_px, below_zoom=below_zoom, refreshed_at=func.now())
        )
        session.commit()
    return targets


def refresh_stale(session: Session) -> list[str]:
    """`refresh` of every stale comuna, for the configured tiles (after an import)."""
    settings = get_tile_settings()
    return refresh(session, settings.cell_px, settings.aggregate_below_zoom)
