"""The collections Vigía publishes through OGC API - Features, and who may read each.

A collection is a SELECT whose columns are labelled `id`, `geom`, optionally `datetime`,
and one column per published property. Items, queryables, CQL2 filters and vector tiles
are all built from that one description, so adding a layer means adding a `Collection`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select

from app.models import Barrio, MicroBarrio, Role


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
    geometry_type: str
    datetime_property: str | None = None
    roles: frozenset[Role] | None = None  # None: public
    keywords: tuple[str, ...] = field(default_factory=tuple)
    # RFC 7946 wants counter-clockwise exterior rings; applied on output only, so filters
    # on `geom` keep using the GiST index.
    force_ccw: bool = False

    def readable_by(self, role: Role | None) -> bool:
        return self.roles is None or (
            role is not None and (role in self.roles or role == Role.ADMIN)
        )


def _barrios() -> Select:
    return select(
        Barrio.code.label("id"),
        Barrio.geom.label("geom"),
        Barrio.code.label("code"),
        Barrio.name.label("name"),
        Barrio.comuna_code.label("comuna"),
        Barrio.population.label("population"),
    )


def _micro_barrios() -> Select:
    return select(
        MicroBarrio.code.label("id"),
        MicroBarrio.geom.label("geom"),
        MicroBarrio.code.label("code"),
        MicroBarrio.name.label("name"),
        MicroBarrio.comuna_code.label("comuna"),
        Barrio.code.label("barrio"),
        MicroBarrio.population.label("population"),
    ).join(Barrio, Barrio.id == MicroBarrio.barrio_id)


_UNIT_PROPERTIES = (
    Queryable("code", "string", "Código de la unidad"),
    Queryable("name", "string", "Nombre descriptivo"),
    Queryable("comuna", "string", "Código CUT de la comuna"),
    Queryable("population", "integer", "Población (Censo 2017 o estimada)"),
)

REGISTRY: dict[str, Collection] = {}


def register(collection: Collection) -> None:
    REGISTRY[collection.id] = collection


register(
    Collection(
        id="barrios",
        title="Barrios",
        description="Barrios de cada comuna cargada, con su población.",
        source=_barrios,
        properties=_UNIT_PROPERTIES,
        geometry_type="MultiPolygon",
        keywords=("territorio", "barrio"),
        force_ccw=True,
    )
)
register(
    Collection(
        id="micro-barrios",
        title="Micro-barrios",
        description="Micro-barrios (grupos de manzanas censales) dentro de cada barrio.",
        source=_micro_barrios,
        properties=(
            *_UNIT_PROPERTIES,
            Queryable("barrio", "string", "Código del barrio que lo contiene"),
        ),
        geometry_type="MultiPolygon",
        keywords=("territorio", "micro-barrio"),
        force_ccw=True,
    )
)


def territory_extent() -> Select:
    """[minx, miny, maxx, maxy] of every loaded comuna: the spatial extent we advertise."""
    from app.models import Comuna

    extent = func.ST_Extent(Comuna.geom)
    return select(
        func.ST_XMin(extent), func.ST_YMin(extent), func.ST_XMax(extent), func.ST_YMax(extent)
    )
