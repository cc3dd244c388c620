"""Items of a collection: the page and the single item (filters: app/ogc/filters.py).

The page is assembled by PostgreSQL feature by feature (`json_build_object` +
`ST_AsGeoJSON`) and read in one plain statement on the request's connection
(`read_page`); its rows are joined into the body a batch of BATCH at a time, so a
10,000-feature page never sits in Python memory as objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Integer, Text, bindparam, cast, func, literal, select
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

from app.db import driver_execute
from app.errors import NotFound
from app.geojson import feature
from app.identity import access
from app.identity.caller import Caller
from app.ogc.collections import Collection
from app.ogc.filters import (
    FilterShape,
    ItemsQuery,
    bad_parameter,
    bind_values,
    evaluation_reason,
    where_conditions,
)

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 10
BATCH = 500
# `numberMatched` is given exactly up to this many matches, and omitted above: counting
# stops at the cap, so a filter over a million rows costs no more than one over 20,000
NUMBER_MATCHED_CAP = 20_000


def _build(
    collection: Collection, who: Caller | None, shape: FilterShape, cql: tuple[str, str] | None
) -> Any:
    def source(alias: str) -> Any:
        return collection.scoped_source(who).subquery(alias)

    sub = source("c")
    conditions = where_conditions(collection, sub, shape, cql)
    if shape.one:
        conditions.append(sub.c.id == bindparam("item_id"))
    elif shape.offset:
        # Skipped rows must not pay for their GeoJSON: pick the page's keys first (an index
        # walk over the key), then build features for those keys only.
        keys = (
            select(sub.c.id)
            .where(*conditions)
            .order_by(sub.c.id)
            .limit(bindparam("page_limit", type_=Integer))
            .offset(bindparam("page_offset", type_=Integer))
            .scalar_subquery()
        )
        sub = source("page")
        conditions = [sub.c.id.in_(keys)]
    props = {q.name: sub.c[q.name] for q in collection.properties}
    if collection.datetime_property:
        props[collection.datetime_property] = sub.c.datetime
    geom = func.ST_ForcePolygonCCW(sub.c.geom) if collection.force_ccw else sub.c.geom
    # Ordered by the key (the primary key for table-backed collections), so a page walks
    # an index instead of sorting the whole match.
    columns: list[Any] = [cast(feature(id_=sub.c.id, geom=geom, properties=props), Text)]
    if collection.audited is not None:  # which rows of the page the audit event counts
        columns += [sub.c.id, sub.c[collection.audited.flag]]
    stmt = select(*columns).where(*conditions).order_by(sub.c.id)
    if not shape.one:
        stmt = stmt.limit(bindparam("page_limit", type_=Integer))
    return stmt


@lru_cache(maxsize=512)
def _cached(collection: Collection, who: Caller | None, shape: FilterShape) -> Any:
    return _build(collection, who, shape, None)


def _build_count(
    collection: Collection, who: Caller | None, shape: FilterShape, cql: tuple[str, str] | None
) -> Any:
    """How many rows match, counted up to `count_cap` (a LIMIT inside: never a full scan)."""
    sub = collection.scoped_source(who).subquery("c")
    matching = (
        select(literal(1))
        .select_from(sub)
        .where(*where_conditions(collection, sub, shape, cql))
        .limit(bindparam("count_cap", type_=Integer))
    )
    return select(func.count()).select_from(matching.subquery("m"))


@lru_cache(maxsize=256)
def _cached_count(collection: Collection, who: Caller | None, shape: FilterShape) -> Any:
    return _build_count(collection, who, shape, None)


def build_count_statement(
    collection: Collection, query: ItemsQuery, caller: Caller
) -> tuple[Any, dict[str, Any]]:
    """The capped count of the query's matches (the page's filters, no limit or offset)."""
    shape, values = bind_values(collection, query, None)
    shape = FilterShape(
        bbox=shape.bbox, start=shape.start, end=shape.end, properties=shape.properties
    )
    values = {k: v for k, v in values.items() if k not in ("page_limit", "page_offset")}
    values["count_cap"] = NUMBER_MATCHED_CAP + 1
    who = collection.scope_key(caller)
    if query.cql:
        return _build_count(collection, who, shape, (query.cql, query.cql_lang)), values
    return _cached_count(collection, who, shape), values


def build_items_statement(
    collection: Collection, query: ItemsQuery, caller: Caller, *, one: str | None = None
) -> tuple[Any, dict[str, Any]]:
    """The page statement (a feature's GeoJSON text per row) and its bind values.

    Building the statement costs more than running a small page, so statements without a
    CQL2 filter are built once per shape of query (which filters, not their values) and
    reused; scoped collections keep one per scope (role, institution, unit), never less.
    With an audited collection, each row also carries its id and audited flag.
    """
    shape, values = bind_values(collection, query, one)
    who = collection.scope_key(caller)
    if query.cql:
        return _build(collection, who, shape, (query.cql, query.cql_lang)), values
    return _cached(collection, who, shape), values


def _audit(
    session: Session, collection: Collection, ids: list[Any], surface: str, **detail: Any
) -> None:
    if collection.audited is not None:
        access.audit_read(
            session, collection.audited, ids, surface=surface, collection=collection.id, **detail
        )


def _execute(
    connection: Connection,
    statement: tuple[Any, dict[str, Any]],
    *,
    filtered: bool,
    cached: bool,
) -> Any:
    """The driver's cursor of the statement: a statement `cached` by shape runs on the
    driver (`driver_execute`); a CQL2 filter's, built for this request only, through
    SQLAlchemy. `filtered`: a failure is the filter's fault (400), not a bug."""
    stmt, values = statement
    try:
        if not cached:
            return connection.execute(stmt, values).cursor
        return driver_execute(connection, stmt, values)
    except DBAPIError as exc:
        raise _filter_failure(exc, filtered) from None


def _filter_failure(exc: DBAPIError, filtered: bool) -> Exception:
    """A user's CQL2 filter that PostgreSQL cannot evaluate (1/0, overflow, a bad cast or
    regex: SQLSTATE class 22, or an operator on the wrong types, 42) is the request's fault:
    400 naming `filter`. Without a filter the error is not reinterpreted: it is a bug."""
    sqlstate = getattr(exc.orig, "sqlstate", "") or ""
    if filtered and sqlstate.startswith(("22", "42")):
        return bad_parameter("filter", evaluation_reason(exc))
    return exc


def _join_page(cursor: Any, limit: int, audited: bool) -> tuple[bytes, int, bool, list[Any]]:
    """The page's features as one comma-separated text, how many, whether more matched,
    and the audited rows' ids. Rows are converted and joined a batch at a time, so a
    10,000-feature page is held as its encoded text, never as 10,000 Python objects."""
    chunks: list[bytes] = []
    ids: list[Any] = []
    count = 0
    more = False
    # The driver's own rows (tuples): SQLAlchemy's Row objects tripled the Python work of a
    # 10,000-feature page (30 ms of CPU against 18).
    while batch := cursor.fetchmany(BATCH):
        take = batch[: limit - count]
        more = len(take) < len(batch)
        if take:
            chunks.append(",".join([row[0] for row in take]).encode())
            count += len(take)
            if audited:
                ids += [row[1] for row in take if row[2]]
        if more:
            break
    cursor.close()
    return b",".join(chunks), count, more, ids


@dataclass(frozen=True)
class Page:
    features: bytes  # comma-separated GeoJSON features, UTF-8
    returned: int
    more: bool  # whether more match after this page
    matched: int | None  # all matches, when known exactly (None above NUMBER_MATCHED_CAP)


def _number_matched(
    connection: Connection, collection: Collection, query: ItemsQuery, caller: Caller
) -> int | None:
    statement = build_count_statement(collection, query, caller)
    cursor = _execute(connection, statement, filtered=True, cached=not query.cql)
    matched = int(cursor.fetchone()[0])
    cursor.close()
    return matched if matched <= NUMBER_MATCHED_CAP else None


def read_page(session: Session, collection: Collection, query: ItemsQuery, caller: Caller) -> Page:
    """A page: its features (comma-separated GeoJSON, UTF-8), how many, whether more match,
    and how many match in all when that is cheap: known from the page itself when it is the
    last one, else counted up to NUMBER_MATCHED_CAP.

    One plain statement on the request's own connection, whatever the page size: no
    server-side cursor, no second connection, no second statement for the audit (its ids
    come from the page's own rows) and one response body instead of a chunk per batch (each
    chunk cost a hop to the worker thread). The audit event is in the request's transaction,
    committed before anything is sent. The price: a page sits in memory as its text until
    sent (bounded by MAX_LIMIT: a few MB for a 10,000-feature page).
    """
    statement = build_items_statement(collection, query, caller)
    connection = session.connection()
    audited = collection.audited is not None

    def read() -> Page:
        result = _execute(connection, statement, filtered=bool(query.cql), cached=not query.cql)
        features, count, more, ids = _join_page(result, query.limit, audited)
        _audit(session, collection, ids, "ogc.items")
        if not more and (count or not query.offset):
            matched: int | None = query.offset + count  # the last page: no count needed
        else:
            matched = _number_matched(connection, collection, query, caller)
        return Page(features, count, more, matched)

    if query.cql:  # a savepoint: a filter that fails leaves the request's transaction usable
        with connection.begin_nested():
            return read()
    return read()


def read_item(session: Session, collection: Collection, feature_id: str, caller: Caller) -> str:
    missing = NotFound(
        f"La colección {collection.id} no tiene el elemento {feature_id!r}.",
        code="elemento_no_encontrado",
    )
    stmt, values = build_items_statement(collection, ItemsQuery(), caller, one=feature_id)
    try:
        row = session.connection().execute(stmt, values).first()
    except StatementError as exc:  # an id that cannot be a key of this collection (not a UUID)
        sqlstate = getattr(exc.orig, "sqlstate", "") or ""
        if isinstance(exc.orig, ValueError) or sqlstate.startswith("22"):
            raise missing from None
        raise
    if row is None:
        raise missing
    if collection.audited is not None and row[2]:
        _audit(session, collection, [row[1]], "ogc.item", object_id=row[1])
    return str(row[0])
