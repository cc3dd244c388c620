"""Mapbox vector tiles (WebMercatorQuad) for any registered collection, built by PostGIS.

One statement per tile: the tile envelope (`ST_TileEnvelope`, EPSG:3857) is transformed
to EPSG:4326 for the `&&` filter, so the GiST index on `geom` is used; `ST_AsMVTGeom`
clips and quantises, `ST_AsMVT` encodes. Point collections would make unreadable and heavy
tiles at low zoom, so below `aggregate_below_zoom` points are counted per grid cell (in
tile space) and above it each tile carries at most `max_points` points, chosen by key so a
tile is reproducible. Polygon and mixed collections are served as they are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Integer, Text, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

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


@dataclass
class Tile:
    data: bytes
    capped: bool  # more points than max_points matched: only the first ones are drawn
    aggregated: bool

    @property
    def etag(self) -> str:
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


def tile_statement(
    collection: Collection,
    caller: Caller,
    z: int,
    x: int,
    y: int,
    settings: TileSettings,
) -> tuple[Any, bool]:
    """The statement returning (mvt bytea, capped bool), and whether it aggregates."""
    envelope = func.ST_TileEnvelope(z, x, y)
    sub = collection.scoped_source(caller).subquery("c")
    in_tile = sub.c.geom.op("&&")(func.ST_Transform(envelope, SRID))
    projected = func.ST_Transform(sub.c.geom, WEB_MERCATOR)
    layer = literal(collection.id)
    points = collection.geometry_type == "Point"

    if points and z < settings.aggregate_below_zoom:
        # Snap to the centre of a cell_px grid in tile space and count per cell.
        pixel = func.ST_AsMVTGeom(projected, envelope, EXTENT, 0, True)
        located = select(pixel.label("pixel")).where(in_tile).subquery("p")
        cell = func.ST_SnapToGrid(located.c.pixel, settings.cell_px)
        cells = (
            select(cell.label("geom"), cast(func.count(), Integer).label("count"))
            .where(located.c.pixel.is_not(None))
            .group_by(cell)
            .subquery("t")
        )
        mvt = func.ST_AsMVT(cells.table_valued(), layer, EXTENT, "geom")
        return select(func.coalesce(mvt, b""), literal(False)), True

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
        return select(func.coalesce(mvt, b""), literal(False)), False

    # One row past the cap tells whether the tile was cut; the key orders it reproducibly.
    candidates = rows.order_by(sub.c.id).limit(settings.max_points + 1).cte("candidates")
    drawn = (
        select(*(candidates.c[c.key] for c in columns if c.key is not None))
        .limit(settings.max_points)
        .subquery("t")
    )
    mvt_drawn = select(func.ST_AsMVT(drawn.table_valued(), layer, EXTENT, "geom"))
    capped = select(func.count() > settings.max_points).select_from(candidates)
    return (
        select(
            func.coalesce(mvt_drawn.scalar_subquery(), b""),
            capped.scalar_subquery(),
        ),
        False,
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
    stmt, aggregated = tile_statement(collection, caller, z, x, y, settings)
    # JIT compilation (hundreds of ms on aggregated tiles) costs more than it saves here
    connection.exec_driver_sql("SET LOCAL jit = off")
    data, capped = connection.execute(stmt).one()
    return Tile(data=bytes(data), capped=bool(capped), aggregated=aggregated)
