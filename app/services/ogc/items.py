"""Items of a collection: filters (bbox, datetime, properties, CQL2) and the streamed page.

The page is assembled by PostgreSQL feature by feature (`json_build_object` +
`ST_AsGeoJSON`) and streamed from a server-side cursor, so a 10,000-feature page never
sits in Python memory as objects. CQL2 goes through pygeofilter's parser and its
SQLAlchemy backend: expressions with bind parameters, never spliced text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lark.exceptions import LarkError
from pygeofilter.backends.sqlalchemy import to_filter
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from sqlalchemy import Connection, Engine, Text, cast, func, select
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.elements import ColumnElement

from app.errors import BadRequest, FieldProblem, NotFound
from app.geo import bbox as geo_bbox
from app.geo.bbox import Bbox
from app.models.base import SRID
from app.services.api_keys import Caller
from app.services.geojson import feature
from app.services.ogc.collections import Collection

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 10
_FIRST_BATCH = 500


def bad_parameter(field: str, reason: str) -> BadRequest:
    problem: FieldProblem = {"field": field, "reason": reason, "location": "query"}
    return BadRequest(f"Parámetro {field} no válido: {reason}", errors=[problem])


def parse_bbox(raw: str | None) -> Bbox | None:
    if raw is None:
        return None
    try:
        return geo_bbox.parse_bbox(raw, allow_3d=True)
    except geo_bbox.BboxError as exc:
        raise bad_parameter("bbox", exc.reason) from None


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

            ast = parse_cql2_json(orjson.loads(text))
        else:
            ast = parse_cql2_text(text)
    except (LarkError, ValueError, TypeError, KeyError, AttributeError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise bad_parameter("filter", f"expresión {lang} no válida ({reason})") from None
    mapping: dict[str, Any] = {q.name: columns[q.name] for q in collection.properties}
    mapping["geometry"] = columns.geom
    if collection.datetime_property:
        mapping["datetime"] = columns.datetime
    try:
        return to_filter(ast, mapping, undefined_as_null=False)
    except KeyError as exc:
        names = ", ".join(sorted(mapping))
        raise bad_parameter(
            "filter", f"la propiedad {exc.args[0]!r} no existe; se puede filtrar por: {names}"
        ) from None
    except (NotImplementedError, ValueError, TypeError) as exc:
        raise bad_parameter("filter", f"operación no soportada ({exc})") from None


def filtered_source(collection: Collection, caller: Caller, query: ItemsQuery) -> Any:
    """The collection's rows this caller may see that match the query, as subquery `c`."""
    sub = collection.scoped_source(caller).subquery("c")
    conditions: list[ColumnElement[Any]] = []
    if query.bbox is not None:
        conditions.append(func.ST_Intersects(sub.c.geom, func.ST_MakeEnvelope(*query.bbox, SRID)))
    if query.datetime is not None:
        if not collection.datetime_property:
            raise bad_parameter("datetime", "esta colección no tiene dimensión temporal")
        start, end = query.datetime
        if start is not None:
            conditions.append(sub.c.datetime >= start)
        if end is not None:
            conditions.append(sub.c.datetime <= end)
    for name, raw in (query.properties or {}).items():
        conditions.append(sub.c[name] == _coerce(collection, name, raw))
    if query.cql:
        conditions.append(_cql_filter(collection, sub.c, query.cql, query.cql_lang))
    return sub, conditions


def build_items_statement(
    collection: Collection, query: ItemsQuery, caller: Caller, *, one: str | None = None
) -> Any:
    sub, conditions = filtered_source(collection, caller, query)
    if one is not None:
        conditions.append(sub.c.id == one)
    elif query.offset:
        # Skipped rows must not pay for their GeoJSON: pick the page's keys first (an index
        # walk over the key), then build features for those keys only.
        keys = (
            select(sub.c.id)
            .where(*conditions)
            .order_by(sub.c.id)
            .limit(query.limit + 1)
            .offset(query.offset)
            .scalar_subquery()
        )
        sub = collection.scoped_source(caller).subquery("page")
        conditions = [sub.c.id.in_(keys)]
    props = {q.name: sub.c[q.name] for q in collection.properties}
    if collection.datetime_property:
        props[collection.datetime_property] = sub.c.datetime
    geom = func.ST_ForcePolygonCCW(sub.c.geom) if collection.force_ccw else sub.c.geom
    # Ordered by the key (the primary key for table-backed collections), so a page walks
    # an index instead of sorting the whole match.
    stmt = (
        select(cast(feature(id_=sub.c.id, geom=geom, properties=props), Text))
        .where(*conditions)
        .order_by(sub.c.id)
    )
    if one is None:
        stmt = stmt.limit(query.limit + 1)
    return stmt


def _execute(connection: Connection, stmt: Any) -> Any:
    try:
        return connection.execution_options(stream_results=True, yield_per=_FIRST_BATCH).execute(
            stmt
        )
    except DBAPIError as exc:
        sqlstate = getattr(exc.orig, "sqlstate", "") or ""
        if sqlstate.startswith(("22", "42")):  # data exception / undefined operator
            raise bad_parameter(
                "filter", "el filtro compara valores de tipos incompatibles"
            ) from None
        raise


@dataclass
class Page:
    """A page being streamed: first rows already fetched (so errors surface as problems)."""

    connection: Connection
    result: Any
    first: list[Any]
    limit: int

    def stream(self, footer: Callable[[int, bool], bytes]) -> Iterator[bytes]:
        # One chunk per fetched batch, not per feature: each chunk costs a hop between the
        # event loop and the worker thread.
        count = 0
        more = False
        try:
            yield b'{"type":"FeatureCollection","features":['
            batch = self.first
            while batch:
                take = batch[: self.limit - count]
                more = len(take) < len(batch)
                if take:
                    chunk = ",".join(row[0] for row in take).encode()
                    yield (b"," if count else b"") + chunk
                    count += len(take)
                if more:
                    break
                batch = self.result.fetchmany(_FIRST_BATCH)
            yield footer(count, more)
        finally:
            self.result.close()
            self.connection.close()


def open_page(engine: Engine, collection: Collection, query: ItemsQuery, caller: Caller) -> Page:
    stmt = build_items_statement(collection, query, caller)
    connection = engine.connect()
    try:
        # JIT compilation costs ~1 s on large pages and never pays back for these queries
        connection.exec_driver_sql("SET LOCAL jit = off")
        result = _execute(connection, stmt)
        first = result.fetchmany(min(query.limit + 1, _FIRST_BATCH))
    except BaseException:
        connection.close()
        raise
    return Page(connection=connection, result=result, first=first, limit=query.limit)


def read_item(
    connection: Connection, collection: Collection, feature_id: str, caller: Caller
) -> str:
    missing = NotFound(
        f"La colección {collection.id} no tiene el elemento {feature_id!r}.",
        code="elemento_no_encontrado",
    )
    stmt = build_items_statement(collection, ItemsQuery(), caller, one=feature_id)
    try:
        text = connection.execute(stmt).scalar()
    except StatementError as exc:  # an id that cannot be a key of this collection (not a UUID)
        sqlstate = getattr(exc.orig, "sqlstate", "") or ""
        if isinstance(exc.orig, ValueError) or sqlstate.startswith("22"):
            connection.rollback()
            raise missing from None
        raise
    if text is None:
        raise missing
    return str(text)
