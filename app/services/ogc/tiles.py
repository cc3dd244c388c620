"""Mapbox vector tiles (WebMercatorQuad) for any registered collection, built by PostGIS.

One statement per tile: the tile envelope (`ST_TileEnvelope`, EPSG:3857) is transformed
to EPSG:4326 for the `&&` filter, so the GiST index on `geom` is used; `ST_AsMVTGeom`
clips and quantises, `ST_AsMVT` encodes. Point collections would make unreadable and heavy
tiles at low zoom, so below `aggregate_below_zoom` points are counted per grid cell (in
tile space) and above it each tile carries at most `max_points` points, chosen by key so a
tile is reproducible. Polygon and mixed collections are served as they are.

Building the statement costs more than running it on a light tile (SQLAlchemy constructs
and hashes a few hundred nodes), so the statement is built once per collection, tile kind
and caller scope, with the tile coordinates as bind parameters, and reused.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy import Connection, Integer, Text, bindparam, cast, func, literal, select, true
from sqlalchemy.sql.elements import ColumnElement

from app.db import use_custom_plans
from app.errors import BadRequest, FieldProblem, NotFound
from app.models.base import SRID
from app.services.api_keys import Caller
from app.services.ogc.collections import Collection
from app.settings import TileSettings

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22
EXTENT = 4096  # tile coordinate space
BUFFER = 64  # pixels kept around the tile so lines and symbols do not break at edges
WEB_MERCATOR = 3857
EARTH_RADIUS = 6378137.0  # metres; the sphere of EPSG:3857


@dataclass
class Tile:
    data: bytes
    capped: bool  # more points than max_points matched: only the first ones are drawn
    aggregated: bool

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
    collection: Collection, caller: Caller, z: int, settings: TileSettings
) -> tuple[Any, bool]:
    """The statement returning (mvt bytea, capped bool) for tiles of zoom `z`, run with
    `tile_params(z, x, y)`; and whether it aggregates points into cells."""
    aggregated = collection.geometry_type == "Point" and z < settings.aggregate_below_zoom
    # Only scoped collections depend on who asks; the others share one statement.
    who = caller if collection.scope is not None else None
    stmt = _statement(collection, who, aggregated, settings.max_points, settings.cell_px)
    return stmt, aggregated


@lru_cache(maxsize=512)
def _statement(
    collection: Collection,
    caller: Caller | None,
    aggregated: bool,
    max_points: int,
    cell_px: int,
) -> Any:
    z, x, y = (bindparam(f"tile_{axis}", type_=Integer) for axis in "zxy")
    scoped = collection.scoped_source(caller) if caller is not None else collection.source()
    envelope = func.ST_TileEnvelope(z, x, y)
    sub = scoped.subquery("c")
    in_tile = sub.c.geom.op("&&")(func.ST_Transform(envelope, SRID))
    projected = func.ST_Transform(sub.c.geom, WEB_MERCATOR)
    layer = literal(collection.id)
    points = collection.geometry_type == "Point"

    if aggregated:
        # Count points per cell_px square of the tile and draw one point at each cell's
        # centre. The cell comes from the spherical Mercator formulas, which define EPSG:3857,
        # applied to lon/lat: at z10 a tile holds >100k points, and this is ~30 % cheaper per
        # point than ST_Transform + ST_AsMVTGeom (docs/benchmarks.md).
        bounds = select(
            func.ST_XMin(envelope).label("x0"),
            func.ST_YMax(envelope).label("y1"),
            ((func.ST_XMax(envelope) - func.ST_XMin(envelope)) / (EXTENT / cell_px)).label("cell"),
        ).subquery("b")
        lon, lat = func.radians(func.ST_X(sub.c.geom)), func.radians(func.ST_Y(sub.c.geom))
        mercator_y = EARTH_RADIUS * func.ln(func.tan(math.pi / 4 + lat / 2))
        cells = (
            select(
                func.floor((EARTH_RADIUS * lon - bounds.c.x0) / bounds.c.cell).label("cx"),
                func.floor((bounds.c.y1 - mercator_y) / bounds.c.cell).label("cy"),
            )
            .select_from(sub.join(bounds, true()))  # one row of tile bounds for every point
            .where(in_tile)
            .subquery("q")
        )
        per_side = EXTENT // cell_px
        centre = func.ST_Point((cells.c.cx + 0.5) * cell_px, (cells.c.cy + 0.5) * cell_px)
        counted = (
            select(centre.label("geom"), cast(func.count(), Integer).label("count"))
            .where(cells.c.cx.between(0, per_side - 1), cells.c.cy.between(0, per_side - 1))
            .group_by(cells.c.cx, cells.c.cy)
            .subquery("t")
        )
        mvt = func.ST_AsMVT(counted.table_valued(), layer, EXTENT, "geom")
        return select(func.coalesce(mvt, b""), literal(False))

    columns: list[ColumnElement[Any]] = [
        func.ST_AsMVTGeom(projected, envelope, EXTENT, BUFFER, True).label("geom"),
        cast(sub.c.id, Text).label("id"),
        *(sub.c[q.name] for q in collection.properties),
    ]
    if collection.datetime_property:
        columns.append(cast(sub.c.datetime, Text).label(collection.datetime_property))
    rows = select(*columns).where(in_tile)
    if not points:
        features = rows.subquery("t")
        mvt = func.ST_AsMVT(features.table_valued(), layer, EXTENT, "geom")
        return select(func.coalesce(mvt, b""), literal(False))

    # One row past the cap tells whether the tile was cut; the key orders it reproducibly.
    candidates = rows.order_by(sub.c.id).limit(max_points + 1).cte("candidates")
    drawn = (
        select(*(candidates.c[c.key] for c in columns if c.key is not None))
        .limit(max_points)
        .subquery("t")
    )
    mvt_drawn = select(func.ST_AsMVT(drawn.table_valued(), layer, EXTENT, "geom"))
    capped = select(func.count() > max_points).select_from(candidates)
    return select(
        func.coalesce(mvt_drawn.scalar_subquery(), b""),
        capped.scalar_subquery(),
    )


def render_tile(
    connection: Connection,
    collection: Collection,
    caller: Caller,
    z: int,
    x: int,
    y: int,
    settings: TileSettings,
) -> Tile:
    check_tile(z, x, y)
    stmt, aggregated = tile_statement(collection, caller, z, settings)
    if aggregated:  # planned for this tile's envelope
        use_custom_plans(connection)
    data, capped = connection.execute(stmt, tile_params(z, x, y)).one()
    return Tile(data=bytes(data), capped=bool(capped), aggregated=aggregated)
