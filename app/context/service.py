"""Reading context layers: the catalog with its counts, and one layer's features as GeoJSON.

What the caller may read comes from `app.identity.access.context_type_scope`; a type
outside it is answered exactly like an unknown one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select, true
from sqlalchemy.orm import Session

from app.context.loader import unknown_type
from app.errors import NotFound
from app.geo.bbox import Bbox
from app.geojson import feature, feature_collection
from app.identity.access import context_type_scope
from app.identity.caller import Caller
from app.models.base import SRID
from app.models.context import ContextFeature, ContextLayerType


def _visible_codes(session: Session, caller: Caller) -> list[str]:
    return list(
        session.scalars(
            select(ContextLayerType.code)
            .where(context_type_scope(caller))
            .order_by(ContextLayerType.code)
        )
    )


def list_layers(
    session: Session, caller: Caller, *, type_: str | None = None, comuna: str | None = None
) -> list[dict[str, Any]]:
    """Every layer type the caller may read, with its feature counts per comuna."""
    visible = _visible_codes(session, caller)
    if type_ is not None and type_ not in visible:
        raise unknown_type(type_, visible, location="query")
    wanted = [type_] if type_ is not None else visible
    types = session.scalars(
        select(ContextLayerType)
        .where(ContextLayerType.code.in_(wanted))
        .order_by(ContextLayerType.code)
    ).all()
    F = ContextFeature
    counts = session.execute(
        select(
            F.layer_type,
            F.comuna_code,
            func.count().label("n"),
            func.count().filter(F.synthetic).label("n_synthetic"),
        )
        .where(F.layer_type.in_(wanted), F.comuna_code == comuna if comuna else true())
        .group_by(F.layer_type, F.comuna_code)
        .order_by(F.layer_type, F.comuna_code)
    ).all()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for row in counts:
        by_type.setdefault(row.layer_type, []).append(
            {"comuna": row.comuna_code, "features": row.n, "synthetic": row.n_synthetic}
        )
    return [
        {
            "code": t.code,
            "label": t.label,
            "description": t.description,
            "public": t.public,
            "features": sum(c["features"] for c in by_type.get(t.code, [])),
            "comunas": by_type.get(t.code, []),
        }
        for t in types
    ]


def _features(type_: str, comuna: str | None, bbox: Bbox | None, limit: int) -> Select:
    F = ContextFeature
    stmt = (
        select(
            feature(
                id_=F.id,
                geom=func.ST_ForcePolygonCCW(F.geom),  # RFC 7946 winding; other types as is
                properties={
                    "type": F.layer_type,
                    "comuna": F.comuna_code,
                    "source_name": F.source_name,
                    "source_id": F.source_id,
                    "synthetic": F.synthetic,
                    "loaded_at": F.loaded_at,
                    "attributes": F.properties,
                },
            ).label("feature"),
            F.id.label("id"),
        )
        .where(F.layer_type == type_)
        .order_by(F.id)
        .limit(limit)
    )
    if comuna is not None:
        stmt = stmt.where(F.comuna_code == comuna)
    if bbox is not None:
        stmt = stmt.where(F.geom.intersects(func.ST_MakeEnvelope(*bbox, SRID)))
    return stmt


def features_geojson(
    session: Session,
    caller: Caller,
    type_: str,
    *,
    comuna: str | None = None,
    bbox: Bbox | None = None,
    limit: int,
) -> str:
    """One layer's features (the first `limit` by id) as a FeatureCollection."""
    found = session.scalar(
        select(ContextLayerType.code).where(
            ContextLayerType.code == type_, context_type_scope(caller)
        )
    )
    if found is None:
        raise NotFound(
            f"No existe la capa de contexto {type_!r}.", code="capa_de_contexto_no_encontrada"
        )
    return session.execute(
        feature_collection(_features(type_, comuna, bbox, limit), order_by="id")
    ).scalar_one()
