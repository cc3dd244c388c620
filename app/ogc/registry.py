"""What an OGC collection is, and the registry every OGC route and tile reads from.

A collection is a SELECT whose columns are labelled `id`, `geom`, optionally `datetime`,
and one column per published property. Items, queryables, CQL2 filters and vector tiles
are all built from that one description, so adding a layer means adding a `Collection`.

Row scope is not declared by hand: a collection whose SELECT reads a table listed in
`access.ROW_SCOPES` (complaints, risk factors) is narrowed by that table's rule on every
surface (items, single items, tiles), and the statements built for it are cached per scope.
Only a public collection may opt out, and it has to say why (`unscoped`).

Whether a collection's responses may be kept in memory (`cacheable`) is derived the same
way: public, unscoped, unaudited, and reading only tables whose one writer announces each
change (`app.ogc.response_cache.NOTIFIED_TABLES`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select
from sqlalchemy.sql.selectable import Alias, TableClause
from sqlalchemy.sql.util import find_tables

from app.identity import access
from app.identity.access import AuditedRead, RowScope
from app.identity.caller import Caller
from app.models import Role
from app.ogc.response_cache import NOTIFIED_TABLES


@dataclass(frozen=True)
class Queryable:
    name: str
    type: str  # JSON Schema type: string, integer, number, boolean; or "date-time"
    description: str

    def json_schema(self) -> dict[str, Any]:
        if self.type == "date-time":
            return {"type": "string", "format": "date-time", "description": self.description}
        return {"type": self.type, "description": self.description}


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    source: Callable[[], Select]
    properties: tuple[Queryable, ...]
    geometry_type: str  # GeoJSON type; "Point" collections are aggregated/capped in tiles
    datetime_property: str | None = None  # name the `datetime` column is published under
    roles: frozenset[Role] | None = None  # None: public
    keywords: tuple[str, ...] = field(default_factory=tuple)
    # RFC 7946 wants counter-clockwise exterior rings; applied on output only, so filters
    # on `geom` keep using the GiST index.
    force_ccw: bool = False
    # Why a public collection reading scoped tables shows every row (it must generalise them).
    unscoped: str | None = None
    # Reads of rows flagged by `audited.flag` leave one audit event per request.
    audited: AuditedRead | None = None
    # Derived from `source`: the row-scope rules of the tables it reads (access.ROW_SCOPES).
    row_scopes: tuple[RowScope, ...] = field(init=False, compare=False, repr=False)
    # Derived: the same body for every caller, from tables whose changes are notified.
    cacheable: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        source = self.source()
        scopes = _row_scopes(self.id, source)
        if self.unscoped is not None:
            if not scopes or self.roles is not None:
                raise ValueError(f"{self.id}: `unscoped` is for public layers of scoped tables")
            scopes = ()
        elif scopes and self.roles is None:
            raise ValueError(f"{self.id}: a public layer of scoped tables must say `unscoped`")
        if self.audited is not None and self.audited.flag not in self.source().selected_columns:
            raise ValueError(f"{self.id}: the audited flag {self.audited.flag!r} is not a column")
        object.__setattr__(self, "row_scopes", scopes)
        tables = {getattr(t, "name", None) for t in find_tables(source, include_aliases=True)}
        notified = tables <= NOTIFIED_TABLES
        cacheable = notified and self.roles is None and not scopes and self.audited is None
        object.__setattr__(self, "cacheable", cacheable)

    def readable_by(self, role: Role | None) -> bool:
        return self.roles is None or (
            role is not None and (role in self.roles or role == Role.ADMIN)
        )

    @property
    def is_public(self) -> bool:
        return self.roles is None

    def queryables_schema(self) -> dict[str, dict[str, Any]]:
        """JSON Schema of each property a filter may name (the queryables document)."""
        schema: dict[str, dict[str, Any]] = {
            "geometry": {"$ref": f"https://geojson.org/schema/{self.geometry_type}.json"}
        }
        if self.datetime_property:
            schema["datetime"] = {"type": "string", "format": "date-time"}
        schema.update({q.name: q.json_schema() for q in self.properties})
        return schema

    def scope_key(self, caller: Caller) -> Caller | None:
        """What the caller's view of this collection depends on (None: the same for all).

        Prebuilt statements are cached under this key, never under less.
        """
        return access.scope_key(caller) if self.row_scopes else None

    def scoped_source(self, key: Caller | None) -> Select:
        """The source narrowed to the rows the scope `key` (from `scope_key`) may see."""
        stmt = self.source()
        if not self.row_scopes:
            return stmt
        if key is None:  # fail closed: a scoped collection is never read without a scope
            raise ValueError(f"the collection {self.id} needs the caller's scope")
        return stmt.where(*(scope(key) for scope in self.row_scopes))


def _row_scopes(collection_id: str, stmt: Select) -> tuple[RowScope, ...]:
    """The scope rules of the scoped tables `stmt` reads, anywhere (joins, subqueries)."""
    scopes: dict[str, RowScope] = {}
    for table in find_tables(stmt, include_aliases=True):
        if isinstance(table, Alias):
            element = table.element
            if isinstance(element, TableClause) and element.name in access.ROW_SCOPES:
                # the rule is written on the table itself and would not narrow the alias
                raise ValueError(f"{collection_id}: scoped table {element.name} read via alias")
        elif isinstance(table, TableClause) and table.name in access.ROW_SCOPES:
            scopes[table.name] = access.ROW_SCOPES[table.name]
    return tuple(scopes[name] for name in sorted(scopes))


REGISTRY: dict[str, Collection] = {}


def register(collection: Collection) -> None:
    REGISTRY[collection.id] = collection
