"""Where a submitted geometry is: strict parsing, then PostGIS for comuna, barrio and
micro-barrio. Nothing is written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, exists, func, literal, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.geo.geojson import GeometryError, parse_geometry
from app.models import Barrio, Comuna, MicroBarrio
from app.models.base import SRID


def geography(geom: Any) -> ColumnElement[Any]:
    """geom::geography, spelled so PostgreSQL matches the (geom::geography) GiST indexes."""
    return func.geography(geom, type_=Geography)


@dataclass(frozen=True)
class Placement:
    wkb: bytes
    comuna_code: str
    barrio_id: int | None
    micro_barrio_id: int | None


def _geometry_problem(reason: str, code: str = "geometria_invalida", **extra: Any) -> InvalidInput:
    return InvalidInput(
        f"La geometría no es aceptable: {reason}.",
        errors=[{"field": "geometry", "location": "body", "reason": reason}],
        code=code,
        **extra,
    )


def _comuna_within(session: Session, geom: Any, tolerance_m: float) -> str | None:
    """The comuna every vertex of `geom` lies in, or within `tolerance_m` of."""
    vertices = func.ST_DumpPoints(geom).table_valued("path", "geom").alias("v")
    outlier = exists(
        select(literal(1))
        .select_from(vertices)
        .where(
            ~func.ST_Covers(Comuna.geom, vertices.c.geom),
            ~func.ST_DWithin(geography(Comuna.geom), geography(vertices.c.geom), tolerance_m),
        )
    )
    return session.scalar(
        select(Comuna.code)
        .where(func.ST_DWithin(geography(Comuna.geom), geography(geom), tolerance_m), ~outlier)
        .order_by(func.ST_Covers(Comuna.geom, func.ST_PointOnSurface(geom)).desc(), Comuna.code)
        .limit(1)
    )


def place(
    session: Session,
    obj: Any,
    *,
    allowed_types: list[str],
    max_vertices: int,
    tolerance_m: float,
) -> Placement:
    try:
        shape = parse_geometry(obj, allowed_types=allowed_types, max_vertices=max_vertices)
    except GeometryError as exc:
        raise _geometry_problem(exc.reason) from exc
    wkb = shapely.to_wkb(shape)
    geom = func.ST_GeomFromWKB(literal(wkb), SRID)
    comuna = _comuna_within(session, geom, tolerance_m)
    if comuna is None:
        if _comuna_within(session, func.ST_FlipCoordinates(geom), tolerance_m):
            raise _geometry_problem(
                "las coordenadas parecen invertidas: con latitud y longitud intercambiadas la "
                "geometría sí cae en una comuna; GeoJSON exige [longitud, latitud]",
                code="coordenadas_invertidas",
            )
        raise _geometry_problem(
            f"queda fuera de las comunas cargadas (tolerancia {tolerance_m:g} m)",
            code="fuera_de_la_comuna",
        )
    anchor = func.ST_PointOnSurface(geom)
    barrio_id = session.scalar(
        select(Barrio.id)
        .where(Barrio.comuna_code == comuna)
        .order_by(
            func.ST_Covers(Barrio.geom, anchor).desc(), Barrio.geom.op("<->")(anchor), Barrio.code
        )
        .limit(1)
    )
    micro_id = None
    if barrio_id is not None:
        micro_id = session.scalar(
            select(MicroBarrio.id)
            .where(
                MicroBarrio.barrio_id == barrio_id,
                func.ST_DWithin(geography(MicroBarrio.geom), geography(anchor), tolerance_m),
            )
            .order_by(
                func.ST_Covers(MicroBarrio.geom, anchor).desc(),
                MicroBarrio.geom.op("<->")(anchor),
                MicroBarrio.code,
            )
            .limit(1)
        )
    return Placement(wkb=wkb, comuna_code=comuna, barrio_id=barrio_id, micro_barrio_id=micro_id)
