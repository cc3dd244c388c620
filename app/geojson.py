"""GeoJSON assembled inside PostGIS: one query returns the finished document as text.

Building features row by row in Python is what makes GeoJSON APIs slow; here PostgreSQL
runs `ST_AsGeoJSON` and `json_agg` and the API passes the bytes through untouched.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, Text, cast, func, literal, select
from sqlalchemy.dialects.postgresql import JSON, aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from app.settings import get_api_settings

GEOJSON_MEDIA_TYPE = "application/geo+json"


def json_object(mapping: Mapping[str, Any]) -> ColumnElement[Any]:
    """json_build_object('k1', v1, 'k2', v2, ...) from a Python mapping."""
    args: list[Any] = []
    for key, value in mapping.items():
        args.extend((literal(key), value))
    return func.json_build_object(*args)


def geometry_json(geom: Any, precision: int | None = None) -> ColumnElement[Any]:
    digits = get_api_settings().geojson_precision if precision is None else precision
    # options=0: never emit a `crs` member (RFC 7946)
    return cast(func.ST_AsGeoJSON(geom, digits, 0), JSON)


def feature(
    *,
    id_: Any,
    geom: Any,
    properties: Mapping[str, Any],
    precision: int | None = None,
) -> ColumnElement[Any]:
    """A json Feature expression (RFC 7946: lon/lat, WGS 84)."""
    return json_object(
        {
            "type": literal("Feature"),
            "id": id_,
            "geometry": geometry_json(geom, precision),
            "properties": json_object(properties),
        }
    )


def feature_collection(
    source: Select, *, order_by: str, extra: Mapping[str, Any] | None = None
) -> Select[str]:
    """One FeatureCollection (as text) from a SELECT with a `feature` and an ordering column.

    `source` must label its Feature expression "feature" and include the column named by
    `order_by`, so the collection's order is stable.
    """
    sub = source.subquery("f")
    features = func.json_agg(aggregate_order_by(sub.c.feature, sub.c[order_by]))
    members: dict[str, Any] = {
        "type": literal("FeatureCollection"),
        "features": func.coalesce(features, cast(literal("[]"), JSON)),
    }
    members.update(extra or {})
    return select(cast(json_object(members), Text))
