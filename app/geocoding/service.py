"""Geocoding one address and reverse geocoding one point, for the API and the field form."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.geocoding.matcher import GeocodeResult, geocode_many
from app.geocoding.staged import geocoding_comuna

MAX_QUERY_CHARS = 300
REVERSE_RADIUS_M = 150.0


def geocode_one(session: Session, query: str, *, comuna: str | None) -> GeocodeResult:
    cleaned = query.strip()
    if not cleaned or not any(c.isalnum() for c in cleaned):
        raise InvalidInput(
            "La dirección está vacía.",
            errors=[{"field": "q", "location": "query", "reason": "escriba una dirección"}],
        )
    if "\x00" in cleaned:
        raise InvalidInput(
            "La dirección tiene caracteres no permitidos.",
            errors=[{"field": "q", "location": "query", "reason": "carácter NUL"}],
        )
    return geocode_many(session, [cleaned], comuna=geocoding_comuna(session, comuna))[0]


# The nearest named segment within the radius; the house number the point would have,
# from its position along the block and its side (ST_LineLocatePoint, the sign of the
# cross product of the segment's direction and the point); the place that contains it.
_REVERSE = text(
    """
    WITH p AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
    near AS (
        SELECT s.name, g.geom, g.left_from, g.left_to, g.right_from, g.right_to,
               ST_Distance(g.geom::geography, p.g::geography) AS d,
               ST_LineLocatePoint(g.geom, p.g) AS f, p.g AS pt
          FROM gazetteer_segment g
          JOIN gazetteer_street s ON s.id = g.street_id
          JOIN gazetteer_version v ON v.id = s.version_id AND v.current
          CROSS JOIN p
         WHERE ST_DWithin(g.geom::geography, p.g::geography, :radius)
         ORDER BY g.geom <-> p.g, g.id LIMIT 1),
    sided AS (
        SELECT *, CASE WHEN (ST_X(ST_EndPoint(geom)) - ST_X(ST_StartPoint(geom)))
                            * (ST_Y(pt) - ST_Y(ST_StartPoint(geom)))
                          - (ST_Y(ST_EndPoint(geom)) - ST_Y(ST_StartPoint(geom)))
                            * (ST_X(pt) - ST_X(ST_StartPoint(geom))) >= 0
                       THEN 'left' ELSE 'right' END AS side
          FROM near)
    SELECT name, round(d::numeric, 1)::float AS distance_m, side,
           CASE WHEN side = 'left' AND left_from IS NOT NULL
                THEN left_from + 2 * round((f * (left_to - left_from)) / 2.0)::int
                WHEN side = 'right' AND right_from IS NOT NULL
                THEN right_from + 2 * round((f * (right_to - right_from)) / 2.0)::int END
               AS number,
           (SELECT pl.name FROM gazetteer_place pl
              JOIN gazetteer_version v ON v.id = pl.version_id AND v.current
             WHERE ST_Intersects(pl.geom, pt) ORDER BY ST_Area(pl.geom), pl.id LIMIT 1)
               AS place
      FROM sided
    """
)
_PLACE_ONLY = text(
    """
    SELECT pl.name FROM gazetteer_place pl
      JOIN gazetteer_version v ON v.id = pl.version_id AND v.current
     WHERE ST_Intersects(pl.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
     ORDER BY ST_Area(pl.geom), pl.id LIMIT 1
    """
)


def reverse(session: Session, lon: float, lat: float) -> dict[str, Any]:
    """The street (and estimated number) and place nearest a point; nulls when none is
    within REVERSE_RADIUS_M."""
    params = {"lon": lon, "lat": lat, "radius": REVERSE_RADIUS_M}
    row = session.execute(_REVERSE, params).mappings().first()
    if row is None:
        place = session.scalar(_PLACE_ONLY, params)
        return {"street": None, "number": None, "side": None, "distance_m": None, "place": place}
    return dict(row) | {"street": row["name"]}


def point_of_address(session: Session, address: str, *, field: str) -> tuple[float, float]:
    """(lon, lat) of an address a form sent instead of coordinates (Open311's
    address_string); InvalidInput naming `field` when the local gazetteer cannot place it."""
    try:
        result = geocode_one(session, address, comuna=None)
    except InvalidInput as exc:
        raise InvalidInput(
            f"No se pudo geocodificar {field}: {exc.detail} Envíe lat y long.",
            errors=[
                {"field": field, "location": "body", "reason": e["reason"]} for e in exc.errors
            ],
            code="direccion_no_ubicada",
        ) from exc
    if not result.placed or result.lon is None or result.lat is None:
        reason = (
            f"el nomenclátor local no ubica {address!r} con certeza (puntaje {result.score:.2f})"
        )
        raise InvalidInput(
            f"No se pudo ubicar la dirección: {reason}. Envíe lat y long.",
            errors=[{"field": field, "location": "body", "reason": reason}],
            code="direccion_no_ubicada",
        )
    return result.lon, result.lat


def street_lines(session: Session, comuna: str | None) -> str:
    """The current gazetteer's segments as a FeatureCollection (text, built by PostGIS):
    what the review page draws so an analyst sees the streets without a basemap."""
    from sqlalchemy import select

    from app.geojson import feature, feature_collection
    from app.models.gazetteer import GazetteerSegment, GazetteerStreet, GazetteerVersion

    code = geocoding_comuna(session, comuna)
    source = (
        select(
            feature(
                id_=GazetteerSegment.id,
                geom=GazetteerSegment.geom,
                properties={"name": GazetteerStreet.name},
                precision=6,
            ).label("feature"),
            GazetteerSegment.id.label("ordinal"),
        )
        .join(GazetteerStreet, GazetteerStreet.id == GazetteerSegment.street_id)
        .join(GazetteerVersion, GazetteerVersion.id == GazetteerStreet.version_id)
        .where(GazetteerVersion.comuna_code == code, GazetteerVersion.current.is_(True))
    )
    return str(session.execute(feature_collection(source, order_by="ordinal")).scalar_one())
