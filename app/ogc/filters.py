"""Filters of a collection's items and tiles: bbox, datetime, queryable properties, CQL2.

A query's values are validated and split from its shape (`FilterShape`, the key of the
statement caches of app/ogc/items.py and app/ogc/tiles.py), so one compiled statement
serves every value. CQL2 goes through pygeofilter's parser and its SQLAlchemy backend
(temporal functions through app/ogc/cql2_temporal.py): expressions with bind parameters,
never spliced text. Bad filters are 400 problems naming the parameter.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lark.exceptions import LarkError
from pygeofilter.backends.sqlalchemy import to_filter
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from sqlalchemy import Float, bindparam, func
from sqlalchemy.sql.elements import ColumnElement

from app.errors import BadRequest, FieldProblem
from app.models.base import SRID
from app.ogc import cql2_temporal
from app.ogc.collections import Collection

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 10
BATCH = 500
# `numberMatched` is given exactly up to this many matches, and omitted above: counting
# stops at the cap, so a filter over a million rows costs no more than one over 20,000
NUMBER_MATCHED_CAP = 20_000


def bad_parameter(field: str, reason: str) -> BadRequest:
    problem: FieldProblem = {"field": field, "reason": reason, "location": "query"}
    return BadRequest(f"Parámetro {field} no válido: {reason}", errors=[problem])


def _instant(text: str) -> datetime | None:
    if text in ("", ".."):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad_parameter("datetime", f"fecha {text!r} no es RFC 3339") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_datetime(raw: str | None) -> tuple[datetime | None, datetime | None] | None:
    """RFC 3339 instant or interval (`a/b`, `../b`, `a/..`) as (start, end)."""
    if raw is None:
        return None
    if "/" in raw:
        start_text, _, end_text = raw.partition("/")
        start, end = _instant(start_text), _instant(end_text)
        if start and end and start > end:
            raise bad_parameter("datetime", "el inicio del intervalo es posterior al fin")
        return start, end
    instant = _instant(raw)
    return instant, instant


@dataclass
class ItemsQuery:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    datetime: tuple[datetime | None, datetime | None] | None = None
    properties: dict[str, str] | None = None
    cql: str | None = None
    cql_lang: str = "cql2-text"


def _coerce(collection: Collection, name: str, raw: str) -> Any:
    queryable = next(q for q in collection.properties if q.name == name)
    try:
        if queryable.type == "integer":
            return int(raw)
        if queryable.type == "number":
            return float(raw)
        if queryable.type == "boolean":
            return {"true": True, "false": False}[raw.lower()]
    except (ValueError, KeyError):
        raise bad_parameter(name, f"se esperaba un valor de tipo {queryable.type}") from None
    return raw


def _cql_filter(collection: Collection, columns: Any, text: str, lang: str) -> ColumnElement[Any]:
    try:
        if lang == "cql2-json":
            import orjson

            ast = cql2_temporal.rewrite(
                parse_cql2_json(cql2_temporal.json_functions(orjson.loads(text)))
            )
        else:
            ast = cql2_temporal.parse_text(text)
    except (LarkError, ValueError, TypeError, KeyError, AttributeError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise bad_parameter("filter", f"expresión {lang} no válida ({reason})") from None
    mapping: dict[str, Any] = {q.name: columns[q.name] for q in collection.properties}
    mapping["geometry"] = columns.geom
    if collection.datetime_property:  # by its published name or the standard's `datetime`
        mapping["datetime"] = mapping[collection.datetime_property] = columns.datetime
    try:
        return to_filter(ast, mapping, undefined_as_null=False)
    except KeyError as exc:
        names = ", ".join(sorted(mapping))
        raise bad_parameter(
            "filter", f"la propiedad {exc.args[0]!r} no existe; se puede filtrar por: {names}"
        ) from None
    except ArithmeticError as exc:  # pygeofilter folds literals: `1/0` fails right here
        raise bad_parameter("filter", evaluation_reason(exc)) from None
    except (NotImplementedError, ValueError, TypeError) as exc:
        raise bad_parameter("filter", f"operación no soportada ({exc})") from None


# SQLSTATEs of class 22 (data exception) a filter's own values can raise, in Spanish
_FILTER_FAILURES = {
    "22012": "división por cero",
    "22003": "número fuera de rango",
    "22P02": "un valor no se puede convertir al tipo esperado",
    "2201B": "expresión regular no válida",
    "22007": "fecha u hora no válida",
    "22008": "fecha u hora fuera de rango",
}


def evaluation_reason(exc: BaseException) -> str:
    if isinstance(exc, ZeroDivisionError):
        what = "división por cero"
    elif isinstance(exc, ArithmeticError):
        what = "número fuera de rango"
    else:
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", "") or ""
        what = _FILTER_FAILURES.get(sqlstate, "el filtro compara valores de tipos incompatibles")
    return f"el filtro no se puede evaluar: {what}"


@dataclass(frozen=True)
class FilterShape:
    """What a page statement looks like, whatever the values: the key of the statement cache."""

    bbox: bool = False
    start: bool = False
    end: bool = False
    properties: tuple[str, ...] = ()
    offset: bool = False
    one: bool = False


def bind_values(
    collection: Collection, query: ItemsQuery, one: str | None
) -> tuple[FilterShape, dict[str, Any]]:
    """Validate the query's values and split them from its shape."""
    values: dict[str, Any] = {}
    start = end = None
    if query.bbox is not None:
        values.update(zip(("bbox_w", "bbox_s", "bbox_e", "bbox_n"), query.bbox, strict=True))
    if query.datetime is not None:
        if not collection.datetime_property:
            raise bad_parameter("datetime", "esta colección no tiene dimensión temporal")
        start, end = query.datetime
        if start is not None:
            values["dt_start"] = start
        if end is not None:
            values["dt_end"] = end
    names = tuple(sorted(query.properties or {}))
    for name in names:
        values[f"prop_{name}"] = _coerce(collection, name, (query.properties or {})[name])
    if one is not None:
        values["item_id"] = one
    else:
        values["page_limit"] = query.limit + 1
        if query.offset:
            values["page_offset"] = query.offset
    shape = FilterShape(
        bbox=query.bbox is not None,
        start=start is not None,
        end=end is not None,
        properties=names,
        offset=bool(query.offset) and one is None,
        one=one is not None,
    )
    return shape, values


def where_conditions(
    collection: Collection, sub: Any, shape: FilterShape, cql: tuple[str, str] | None
) -> list[ColumnElement[Any]]:
    conditions: list[ColumnElement[Any]] = []
    if shape.bbox:
        envelope = func.ST_MakeEnvelope(
            *(bindparam(name, type_=Float) for name in ("bbox_w", "bbox_s", "bbox_e", "bbox_n")),
            SRID,
        )
        conditions.append(func.ST_Intersects(sub.c.geom, envelope))
    if shape.start:
        conditions.append(sub.c.datetime >= bindparam("dt_start"))
    if shape.end:
        conditions.append(sub.c.datetime <= bindparam("dt_end"))
    for name in shape.properties:
        conditions.append(sub.c[name] == bindparam(f"prop_{name}"))
    if cql is not None:
        conditions.append(_cql_filter(collection, sub.c, *cql))
    return conditions


NO_FILTER = FilterShape()


def property_filters(
    collection: Collection, params: Mapping[str, str], reserved: Container[str]
) -> dict[str, str]:
    """The query parameters that filter by a queryable property; any other name is a 400."""
    known = {q.name for q in collection.properties}
    extra = {k: v for k, v in params.items() if k not in reserved}
    unknown = sorted(set(extra) - known)
    if unknown:
        raise bad_parameter(
            unknown[0], f"parámetro desconocido; propiedades filtrables: {', '.join(sorted(known))}"
        )
    return extra


def tile_filters(
    collection: Collection, datetime: str | None, properties: dict[str, str]
) -> tuple[FilterShape, dict[str, Any]]:
    """Datetime and property filters of a tile: their shape and their bound values."""
    query = ItemsQuery(datetime=parse_datetime(datetime), properties=properties)
    shape, values = bind_values(collection, query, None)
    values.pop("page_limit", None)
    return shape, values


def filter_conditions(collection: Collection, sub: Any, shape: FilterShape) -> list[Any]:
    """The WHERE conditions of a filter shape on the collection's source `sub`."""
    return where_conditions(collection, sub, shape, None)
