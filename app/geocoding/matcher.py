"""Matching parsed addresses against the comuna's current gazetteer, set-based in PostGIS.

One statement geocodes a whole batch: the distinct street and place keys of the batch are
compared once with every name (pg_trgm similarity, or a Levenshtein ratio for short names
and transposed letters, whichever is higher), and every address then joins its keys'
candidates: house numbers interpolated along the block's segment (ST_LineInterpolatePoint)
and set off to their side (ST_Project at right angles to the segment), address points,
intersections of two streets, kilometres along a road (from the end nearest the town),
the middle of a street, named places. Python only ranks each address's few candidates:
an address whose two best candidates are equally good and far apart is ambiguous, and
every best candidate below the acceptance score stays unplaced (better queued than
misplaced).

Scores (0-1) start from the name score and are discounted by what is uncertain; the
discounts are the constants below, one place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from app.geocoding.parse import ParsedAddress, parse_address
from app.settings import get_geocoding_settings

MIN_NAME_SCORE = 0.5  # a name less alike than this is not a candidate at all
NAMES_PER_KEY = 3
ADDRESS_POINT_BONUS = 0.02  # an address point beats interpolation on the same street
PLACE_AGREES = 0.05  # the segment lies in the villa the address names
PLACE_DISAGREES = -0.2  # ... or outside it
STREET_ONLY = 0.95  # a street without number: its middle
NUMBER_UNRANGED = 0.9  # a number on a street with no ranges: its middle
NUMBER_OUT_OF_RANGE = 0.6  # a number the street's ranges do not hold
NO_CROSSING = 0.5  # two streets that do not meet
KM_BEYOND_ROAD = 0.5
PLACE_INSTEAD = 0.8  # a street not found, but the villa it is in is
AMBIGUOUS_WITHIN = 0.03  # two best candidates this close in score ...
AMBIGUOUS_APART_M = 60.0  # ... and this far apart: ambiguous
AMBIGUITY_PENALTY = 0.3  # a perfect name then scores 0.7, below the default acceptance
MAX_CANDIDATES = 5


@dataclass
class GeocodeResult:
    query: str
    placed: bool = False
    lon: float | None = None
    lat: float | None = None
    precision: str | None = None
    score: float = 0.0
    matched: str | None = None
    segment: str | None = None
    version_id: int | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    parsed: ParsedAddress | None = None


# A name's score with letters swapped counted as one edit (optimal string alignment, in
# plpgsql and slow): it can only beat the Levenshtein ratio where Levenshtein counts two
# edits or more (one edit is one edit either way; both truncate nothing under 250 letters),
# so it is computed for those names only.
_OSA_SCORE = """CASE WHEN lev <= 1 AND length(key) <= 250 AND length({other}) <= 250 THEN ns
                ELSE greatest(ns, 1 - geocode_osa_distance(key, {other})::float
                                  / greatest(length(key), length({other}), 1)) END"""

_CANDIDATES = text(
    """
WITH inp AS (
    SELECT (t.ord - 1)::integer AS i, t.kind, t.street, t.number, t.cross_street, t.place, t.km
      FROM ROWS FROM (json_to_recordset(CAST(:parsed AS json))
                      AS (kind text, street text, number integer, cross_street text,
                          place text, km double precision))
           WITH ORDINALITY AS t(kind, street, number, cross_street, place, km, ord)),
versions AS (SELECT id FROM gazetteer_version WHERE comuna_code = :comuna AND current),
streets AS MATERIALIZED (
    SELECT s.id, s.key, s.name, s.version_id FROM gazetteer_street s
     WHERE s.version_id IN (SELECT id FROM versions)),
keys AS (SELECT street AS key FROM inp WHERE street IS NOT NULL
         UNION SELECT cross_street FROM inp WHERE cross_street IS NOT NULL),
key_cand AS MATERIALIZED (
    SELECT key, street_id, name, version_id,
           {osa_skey} AS ns FROM (
        SELECT k.key, s.key AS skey, s.id AS street_id, s.name, s.version_id, x.ns,
               levenshtein(left(s.key, 250), left(k.key, 250)) AS lev,
               row_number() OVER (PARTITION BY k.key ORDER BY x.ns DESC, s.id) AS rn
          FROM keys k CROSS JOIN streets s
         CROSS JOIN LATERAL (SELECT greatest(similarity(s.key, k.key),
               1 - levenshtein(left(s.key, 250), left(k.key, 250))::float
                   / greatest(length(s.key), length(k.key), 1)) AS ns) x
         WHERE x.ns >= :min_name) r
     WHERE rn <= :per_key),
place_cand AS MATERIALIZED (
    SELECT key, place_id, name, version_id, geom,
           {osa_pkey} AS ns FROM (
        SELECT k.key, p.key AS pkey, p.id AS place_id, p.name, p.version_id, p.geom, x.ns,
               levenshtein(left(p.key, 250), left(k.key, 250)) AS lev,
               row_number() OVER (PARTITION BY k.key ORDER BY x.ns DESC, p.id) AS rn
          FROM (SELECT DISTINCT place AS key FROM inp WHERE place IS NOT NULL) k
          JOIN gazetteer_place p ON p.version_id IN (SELECT id FROM versions)
         CROSS JOIN LATERAL (SELECT greatest(similarity(p.key, k.key),
               1 - levenshtein(left(p.key, 250), left(k.key, 250))::float
                   / greatest(length(p.key), length(k.key), 1)) AS ns) x
         WHERE x.ns >= :min_name) r
     WHERE rn <= :per_key),
best_place AS (SELECT DISTINCT ON (key) * FROM place_cand ORDER BY key, ns DESC, place_id),
centre AS MATERIALIZED (
    SELECT ST_Centroid(ST_Collect(ST_Centroid(g.geom))) AS c
      FROM gazetteer_segment g JOIN streets s ON s.id = g.street_id),
street_geom AS MATERIALIZED (
    SELECT g.street_id, ST_LineMerge(ST_Collect(g.geom)) AS merged,
           bool_or(g.left_from IS NOT NULL OR g.right_from IS NOT NULL) AS ranged
      FROM gazetteer_segment g
     WHERE g.street_id IN (SELECT street_id FROM key_cand)
     GROUP BY g.street_id),
-- each numbered address with its street candidates first (materialised: joined to the
-- segments afterwards by street id, never the segments looped over the whole batch)
with_street AS MATERIALIZED (
    SELECT i.i, i.number, i.place, kc.street_id, kc.ns, kc.name, kc.version_id
      FROM inp i JOIN key_cand kc ON kc.key = i.street
     WHERE i.kind = 'number'),
numbered AS (
    SELECT i.i, i.ns + CASE WHEN i.place IS NULL OR bp.key IS NULL THEN 0
                            WHEN ST_Intersects(bp.geom, g.geom) THEN :agrees
                            ELSE :disagrees END AS score,
           'block' AS precision, i.name || ' ' || i.number AS matched, g.source_id AS segment,
           i.version_id, g.geom, r.side,
           CASE WHEN r.t = r.f THEN 0.5 ELSE (i.number - r.f)::float / (r.t - r.f) END AS frac
      FROM with_street i
      JOIN gazetteer_segment g ON g.street_id = i.street_id
      CROSS JOIN LATERAL (VALUES (-1, g.left_from, g.left_to), (1, g.right_from, g.right_to))
            AS r(side, f, t)
      LEFT JOIN best_place bp ON bp.key = i.place
     WHERE r.f IS NOT NULL
       AND i.number BETWEEN least(r.f, r.t) AND greatest(r.f, r.t)
       AND (i.number - r.f) % 2 = 0),
candidates AS (
    SELECT n.i, n.score, n.precision, n.matched, n.segment, n.version_id,
           ST_Project(ST_LineInterpolatePoint(n.geom, n.frac)::geography, :offset,
               ST_Azimuth(ST_LineInterpolatePoint(n.geom, greatest(n.frac - 0.001, 0))::geography,
                          ST_LineInterpolatePoint(n.geom, least(n.frac + 0.001, 1))::geography)
               + n.side * pi() / 2)::geometry AS p
      FROM numbered n
    UNION ALL
    SELECT i.i, kc.ns + :point_bonus, 'exact', kc.name || ' ' || i.number, a.source_id,
           kc.version_id, a.geom
      FROM inp i JOIN key_cand kc ON kc.key = i.street
      JOIN gazetteer_address a ON a.street_id = kc.street_id AND a.number = i.number
     WHERE i.kind = 'number'
    UNION ALL
    SELECT i.i,
           kc.ns * CASE WHEN i.kind = 'street' THEN :street_only
                        WHEN i.kind = 'intersection' THEN :no_crossing
                        WHEN sg.ranged THEN :out_of_range ELSE :unranged END
           + CASE WHEN i.place IS NULL OR bp.key IS NULL THEN 0
                  WHEN ST_Intersects(bp.geom, sg.merged) THEN :agrees ELSE :disagrees END,
           'street', kc.name, NULL, kc.version_id,
           CASE WHEN bp.key IS NOT NULL AND ST_Intersects(bp.geom, sg.merged)
                THEN ST_ClosestPoint(sg.merged, ST_PointOnSurface(bp.geom))
                WHEN GeometryType(sg.merged) = 'LINESTRING'
                THEN ST_LineInterpolatePoint(sg.merged, 0.5)
                ELSE ST_ClosestPoint(sg.merged, ST_Centroid(sg.merged)) END
      FROM inp i JOIN key_cand kc ON kc.key = i.street
      JOIN street_geom sg ON sg.street_id = kc.street_id
      LEFT JOIN best_place bp ON bp.key = i.place
     WHERE i.kind IN ('number', 'street', 'intersection')
    UNION ALL
    SELECT i.i, (a.ns + b.ns) / 2, 'block', a.name || ' esq. ' || b.name, NULL,
           a.version_id, x.geom
      FROM inp i
      JOIN key_cand a ON a.key = i.street
      JOIN key_cand b ON b.key = i.cross_street
      JOIN gazetteer_intersection x
        ON x.street_a = least(a.street_id, b.street_id)
       AND x.street_b = greatest(a.street_id, b.street_id)
     WHERE i.kind = 'intersection'
    UNION ALL
    SELECT i.i, kc.ns * CASE WHEN i.km * 1000 <= k.len THEN 1 ELSE :beyond END, 'block',
           kc.name || ' km ' || i.km, NULL, kc.version_id,
           ST_Transform(ST_LineInterpolatePoint(k.oriented, least(i.km * 1000 / k.len, 1)),
                        4326)
      FROM inp i JOIN key_cand kc ON kc.key = i.street
      JOIN street_geom sg ON sg.street_id = kc.street_id
      CROSS JOIN centre
      -- kilometres measured in the road's UTM zone (a fraction of a line in degrees is not
      -- the same fraction of its length in metres when the road turns)
      CROSS JOIN LATERAL (
          SELECT CASE WHEN ST_Y(centre.c) < 0 THEN 32700 ELSE 32600 END
                 + floor((ST_X(centre.c) + 180) / 6)::int + 1 AS srid) u
      CROSS JOIN LATERAL (
          SELECT ST_Transform(CASE WHEN ST_Distance(ST_StartPoint(sg.merged), centre.c)
                                        <= ST_Distance(ST_EndPoint(sg.merged), centre.c)
                                   THEN sg.merged ELSE ST_Reverse(sg.merged) END, u.srid)
                 AS oriented,
                 greatest(ST_Length(ST_Transform(sg.merged, u.srid)), 1) AS len) k
     WHERE i.kind = 'km' AND GeometryType(sg.merged) = 'LINESTRING'
    UNION ALL
    SELECT i.i, bp.ns * CASE WHEN i.kind = 'place' THEN 1 ELSE :place_instead END,
           'approximate', bp.name, NULL, bp.version_id, ST_PointOnSurface(bp.geom)
      FROM inp i JOIN best_place bp ON bp.key = i.place)
SELECT i, score, precision, matched, segment, version_id, ST_X(p) AS lon, ST_Y(p) AS lat
  FROM candidates WHERE p IS NOT NULL
 -- equal scores in a fixed order (the more precise first), whatever else is in the batch
 ORDER BY i, score DESC,
          array_position(ARRAY['exact', 'block', 'street', 'approximate'], precision),
          matched, lon, lat
""".replace("{osa_skey}", _OSA_SCORE.format(other="skey")).replace(
        "{osa_pkey}", _OSA_SCORE.format(other="pkey")
    )
)


def _params(parsed: Sequence[ParsedAddress], comuna: str, offset_m: float) -> dict[str, Any]:
    return {
        # the parsed addresses as one JSON array (orjson writes dataclasses in C): a batch
        # of seven arrays cost more to send than to match
        "parsed": orjson.dumps(parsed).decode(),
        "comuna": comuna,
        "offset": offset_m,
        "min_name": MIN_NAME_SCORE,
        "per_key": NAMES_PER_KEY,
        "agrees": PLACE_AGREES,
        "disagrees": PLACE_DISAGREES,
        "point_bonus": ADDRESS_POINT_BONUS,
        "street_only": STREET_ONLY,
        "no_crossing": NO_CROSSING,
        "out_of_range": NUMBER_OUT_OF_RANGE,
        "unranged": NUMBER_UNRANGED,
        "beyond": KM_BEYOND_ROAD,
        "place_instead": PLACE_INSTEAD,
    }


def _metres(a: dict[str, Any], b: dict[str, Any]) -> float:
    import math

    kx = 111_320.0 * math.cos(math.radians(a["lat"]))
    return math.hypot((a["lon"] - b["lon"]) * kx, (a["lat"] - b["lat"]) * 111_320.0)


def _rank(result: GeocodeResult, rows: list[dict[str, Any]], min_score: float) -> GeocodeResult:
    for row in rows:
        row["score"] = round(min(max(float(row["score"]), 0.0), 1.0), 4)
    rows.sort(key=lambda r: -r["score"])
    if rows:
        top = rows[0]
        rivals = [
            r
            for r in rows[1:]
            if top["score"] - r["score"] <= AMBIGUOUS_WITHIN and _metres(top, r) > AMBIGUOUS_APART_M
        ]
        if rivals:  # as good and elsewhere: none of them can be trusted
            for r in (top, *rivals):
                r["score"] = round(max(r["score"] - AMBIGUITY_PENALTY, 0), 4)
            rows.sort(key=lambda r: -r["score"])
    result.candidates = [
        {k: r[k] for k in ("lon", "lat", "precision", "score", "matched")}
        for r in rows[:MAX_CANDIDATES]
    ]
    if rows:
        best = rows[0]
        result.score = best["score"]
        if best["score"] >= min_score:
            result.placed = True
            result.lon, result.lat = best["lon"], best["lat"]
            result.precision = best["precision"]
            result.matched = best["matched"]
            result.segment = best["segment"]
            result.version_id = best["version_id"]
    return result


def geocode_parsed(
    session: Session | Connection,
    parsed: Sequence[ParsedAddress],
    *,
    comuna: str,
    min_score: float | None = None,
) -> list[GeocodeResult]:
    settings = get_geocoding_settings()
    threshold = settings.min_score if min_score is None else min_score
    by_input: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if parsed:
        rows = session.execute(_CANDIDATES, _params(parsed, comuna, settings.side_offset_m))
        columns = tuple(rows.keys())
        for row in rows:  # plain tuples: a batch has tens of thousands of candidates
            by_input[row[0]].append(dict(zip(columns, row, strict=True)))
    return [
        _rank(GeocodeResult(query=p.raw, parsed=p), by_input.get(i, []), threshold)
        for i, p in enumerate(parsed)
    ]


def locality_keys(session: Session | Connection, comuna: str) -> frozenset[str]:
    """Name keys of the comuna's own name and its towns: dropped at the end of an address."""
    from app.geocoding.parse import name_key

    rows = session.execute(
        text(
            "SELECT name FROM comuna WHERE code = :c UNION "
            "SELECT p.name FROM gazetteer_place p JOIN gazetteer_version v ON v.id = p.version_id "
            "WHERE v.comuna_code = :c AND v.current AND p.kind = 'localidad'"
        ),
        {"c": comuna},
    )
    return frozenset(name_key(r[0]) for r in rows)


def geocode_many(
    session: Session | Connection,
    addresses: Sequence[str],
    *,
    comuna: str,
    min_score: float | None = None,
) -> list[GeocodeResult]:
    localities = locality_keys(session, comuna)
    parsed = [parse_address(a, localities=localities) for a in addresses]
    return geocode_parsed(session, parsed, comuna=comuna, min_score=min_score)
