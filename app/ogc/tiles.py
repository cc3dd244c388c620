"""Mapbox vector tiles (WebMercatorQuad) for any registered collection, built by PostGIS.

One statement per tile: the tile envelope (`ST_TileEnvelope`, EPSG:3857) is transformed
to EPSG:4326 for the `&&` filter, so the GiST index on `geom` is used; `ST_AsMVTGeom`
clips and quantises, `ST_AsMVT` encodes. Point collections would make unreadable and heavy
tiles at low zoom, so below `aggregate_below_zoom` points are counted per grid cell (in
tile space) and above it each tile carries at most `max_points` points, chosen by key so a
tile is reproducible. Polygon and mixed collections are served as they are.

Building the statement costs more than running it on a light tile (SQLAlchemy constructs
and hashes a few hundred nodes), so the statement is built once per collection, tile kind
and caller scope (role, institution, unit) and filter shape (which datetime bounds and
properties are filtered, `filters.FilterShape`), with the tile coordinates and the filter
values as bind parameters, and reused. The rows are the collection's scoped source, filtered,
so counts at low zoom count only what the caller may see and asked for. An audited
collection's statement also returns how many audited rows the tile holds (and, above the
aggregation zoom, their ids) for the request's event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy import Integer, Text, and_, bindparam, cast, func, literal, null, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.db import driver_execute, use_custom_plans
from app.errors import BadRequest, FieldProblem, NotFound
from app.identity import access
from app.identity.caller import Caller
from app.models.base import SRID
from app.ogc import cells, filters
from app.ogc.collections import Collection
from app.ogc.grid import EXTENT, cell_of, tile_bounds
from app.settings import TileSettings

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22
BUFFER = 64  # pixels kept around the tile so lines and symbols do not break at edges
WEB_MERCATOR = 3857


@dataclass
class Tile:
    data: bytes
    capped: bool  # more points than max_points matched: only the first ones are drawn
    aggregated: bool
    audited: int = 0  # audited rows drawn or counted in the tile
    audited_ids: list[Any] = field(default_factory=list)  # empty when aggregated

    @cached_property
    def etag(self) -> str:  # read twice per request (header and If-None-Match): hash once
        return '"' + hashlib.blake2b(self.data, digest_size=16).hexdigest() + '"'


def check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        problem: FieldProblem = {
            "field": "z",
            "reason": f"el nivel de zoom va de 0 a {MAX_ZOOM}",
            "location": "path",
        }
        raise BadRequest(f"Nivel de zoom {z} no válido.", errors=[problem])
    side = 2**z
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value < side:
            raise NotFound(
                f"La tesela {z}/{x}/{y} no existe: {name} va de 0 a {side - 1} en el zoom {z}.",
                code="tesela_fuera_de_rango",
            )


def layer_fields(collection: Collection, z: int | None, settings: TileSettings) -> dict[str, str]:
    """Attributes of the tile layer (TileJSON `vector_layers[].fields`)."""
    if collection.geometry_type == "Point" and z is not None and z < settings.aggregate_below_zoom:
        return {"count": "Number"}
    types = {"integer": "Number", "number": "Number", "boolean": "Boolean"}
    fields = {"id": "String"}
    fields.update({q.name: types.get(q.type, "String") for q in collection.properties})
    if collection.datetime_property:
        fields[collection.datetime_property] = "String"
    return fields


def tile_params(z: int, x: int, y: int) -> dict[str, int]:
    return {"tile_z": z, "tile_x": x, "tile_y": y}


def tile_statement(
    collection: Collection,
    caller: Caller,
    z: int,
    settings: TileSettings,
    shape: filters.FilterShape = filters.NO_FILTER,
) -> tuple[Any, bool]:
    """The statement returning (mvt bytea, capped bool[, audited count, audited ids]) for
    tiles of zoom `z`, run with `tile_params(z, x, y)` and the filter's values; and whether
    it aggregates points."""
    aggregated = collection.geometry_type == "Point" and z < settings.aggregate_below_zoom
    # Only scoped collections depend on who asks; the others share one statement.
    who = collection.scope_key(caller)
    stmt = _statement(collection, who, aggregated, settings.max_points, settings.cell_px, shape)
    return stmt, aggregated


@lru_cache(maxsize=512)
def _statement(
    collection: Collection,
    who: Caller | None,
    aggregated: bool,
    max_points: int,
    cell_px: int,
    shape: filters.FilterShape,
) -> Any:
    z, x, y = (bindparam(f"tile_{axis}", type_=Integer) for axis in "zxy")
    envelope = func.ST_TileEnvelope(z, x, y)
    sub = collection.scoped_source(who).subquery("c")
    if aggregated:
        live = _cells(collection, sub, envelope, cell_px, shape)
        return cells.with_cells(collection, who, live, cell_px, shape)
    return _features(collection, sub, envelope, max_points, shape)


def _common(
    collection: Collection, sub: Any, envelope: Any, shape: filters.FilterShape
) -> tuple[Any, Any, Any]:
    """The tile filter (GiST-indexed `&&`, and the request's datetime and property filters),
    the layer name and the audited flag, if any."""
    in_tile = and_(
        sub.c.geom.op("&&")(func.ST_Transform(envelope, SRID)),
        *filters.filter_conditions(collection, sub, shape),
    )
    flag = sub.c[collection.audited.flag] if collection.audited is not None else None
    return in_tile, literal(collection.id), flag


def _cells(
    collection: Collection, sub: Any, envelope: Any, cell_px: int, shape: filters.FilterShape
) -> Any:
    """Points counted per cell (and, if audited, how many audited rows were counted)."""
    in_tile, layer, flag = _common(collection, sub, envelope, shape)
    bounds = tile_bounds(envelope, cell_px).subquery("b")
    cell_columns = list(cell_of(sub.c.geom, bounds))
    if flag is not None:
        cell_columns.append(flag.label("flag"))
    cells = (
        select(*cell_columns)
        .select_from(sub.join(bounds, true()))  # one row of tile bounds for every point
        .where(in_tile)
        .subquery("q")
    )
    per_side = EXTENT // cell_px
    centre = func.ST_Point((cells.c.cx + 0.5) * cell_px, (cells.c.cy + 0.5) * cell_px)
    count_columns = [centre.label("geom"), cast(func.count(), Integer).label("count")]
    if flag is not None:
        audited = func.count().filter(cells.c.flag)
        count_columns.append(cast(audited, Integer).label("audited"))
    counted = (
        select(*count_columns)
        .where(cells.c.cx.between(0, per_side - 1), cells.c.cy.between(0, per_side - 1))
        .group_by(cells.c.cx, cells.c.cy)
    )
    if flag is None:
        mvt = func.ST_AsMVT(counted.subquery("t").table_valued(), layer, EXTENT, "geom")
        return select(func.coalesce(mvt, b""), literal(False))
    per_cell = counted.cte("cells")
    drawn = select(per_cell.c.geom, per_cell.c.count).subquery("t")
    mvt_cells = select(func.ST_AsMVT(drawn.table_valued(), layer, EXTENT, "geom"))
    total = select(func.coalesce(func.sum(per_cell.c.audited), 0))
    return select(
        func.coalesce(mvt_cells.scalar_subquery(), b""),
        literal(False),
        cast(total.scalar_subquery(), Integer),
        null(),  # ids: an aggregated tile names no row
    )


def _features(
    collection: Collection, sub: Any, envelope: Any, max_points: int, shape: filters.FilterShape
) -> Any:
    """Features clipped to the tile, points capped (and, if audited, the audited ones)."""
    in_tile, layer, flag = _common(collection, sub, envelope, shape)
    projected = func.ST_Transform(sub.c.geom, WEB_MERCATOR)
    points = collection.geometry_type == "Point"
    columns: list[ColumnElement[Any]] = [
        func.ST_AsMVTGeom(projected, envelope, EXTENT, BUFFER, True).label("geom"),
        cast(sub.c.id, Text).label("id"),
        *(sub.c[q.name] for q in collection.properties),
    ]
    if collection.datetime_property:
        columns.append(cast(sub.c.datetime, Text).label(collection.datetime_property))
    attributes = [c.key for c in columns if c.key is not None]
    if flag is not None:  # not a tile attribute: only counted for the audit event
        columns.append(flag.label("_audited"))
    rows = select(*columns).where(in_tile)
    if not points and flag is None:
        features = rows.subquery("t")
        mvt = func.ST_AsMVT(features.table_valued(), layer, EXTENT, "geom")
        return select(func.coalesce(mvt, b""), literal(False))

    # One row past the cap tells whether the tile was cut; the key orders it reproducibly.
    capped: ColumnElement[Any]
    if points:
        candidates = rows.order_by(sub.c.id).limit(max_points + 1).cte("candidates")
        kept = select(candidates).limit(max_points).subquery("kept")
        capped = select(func.count() > max_points).select_from(candidates).scalar_subquery()
    else:
        candidates = rows.cte("candidates")
        kept = select(candidates).subquery("kept")
        capped = literal(False)
    drawn = select(*(kept.c[name] for name in attributes)).subquery("t")
    mvt_drawn = select(func.ST_AsMVT(drawn.table_valued(), layer, EXTENT, "geom"))
    result: list[ColumnElement[Any]] = [func.coalesce(mvt_drawn.scalar_subquery(), b""), capped]
    if flag is not None:
        flagged = select(
            cast(func.count(), Integer).label("n"),
            func.array_agg(kept.c.id).label("ids"),
        ).where(kept.c["_audited"])
        audited_rows = flagged.subquery("a")
        result += [audited_rows.c.n, audited_rows.c.ids]
        return select(*result).select_from(audited_rows)
    return select(*result)


def render_tile(
    session: Session,
    collection: Collection,
    caller: Caller,
    z: int,
    x: int,
    y: int,
    settings: TileSettings,
    filters: tuple[filters.FilterShape, dict[str, Any]] = (filters.NO_FILTER, {}),
) -> Tile:
    """The tile, with one audit event for the audited rows it draws or counts; `filters`
    comes from `filters.tile_filters`."""
    check_tile(z, x, y)
    shape, values = filters
    stmt, aggregated = tile_statement(collection, caller, z, settings, shape)
    connection = session.connection()
    if aggregated:  # planned for this tile's envelope
        use_custom_plans(connection)
    # built once per shape (`_statement`): compiled once and run on the driver
    row = driver_execute(connection, stmt, {**tile_params(z, x, y), **values}).fetchone()
    assert row is not None  # an aggregate: always one row
    tile = Tile(data=bytes(row[0]), capped=bool(row[1]), aggregated=aggregated)
    if collection.audited is not None:
        tile.audited, tile.audited_ids = row[2] or 0, list(row[3] or [])
        access.audit_read(
            session,
            collection.audited,
            tile.audited_ids,
            count=tile.audited,
            surface="ogc.tile",
            collection=collection.id,
            tile=f"{z}/{x}/{y}",
            aggregated=aggregated,
        )
    return tile
