"""Geocoding the address-only rows of a complaint import, inside its staging table.

`app/complaints/ingest.py` calls `geocode_stage` after the file's rows are staged and
checked and before their comuna is resolved: the rows without coordinates are geocoded in
bulk (app/geocoding/matcher.py, one statement for all) and written back with one UPDATE
from arrays; those the geocoder cannot place keep no point, carry the geocoding comuna and
go to the review queue. A row an analyst already placed by hand, imported again with the
same address, keeps that placement.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, FLOAT, INTEGER, TEXT
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.geocoding.matcher import geocode_parsed, locality_keys
from app.geocoding.parse import parse_address
from app.models.gazetteer import GazetteerVersion
from app.settings import get_territory_settings

_KEEP_MANUAL = text(
    """
    UPDATE complaint_stage s
       SET lon = ST_X(c.geom), lat = ST_Y(c.geom), location_precision = c.location_precision,
           geocode_status = 'manual', gazetteer_version_id = g.gazetteer_version_id,
           geocode_score = g.score, geocode_matched = g.matched,
           geocode_candidates = g.candidates
      FROM complaint c JOIN complaint_geocode g ON g.complaint_id = c.id
     WHERE s.lon IS NULL AND g.status = 'manual' AND c.geom IS NOT NULL
       AND c.source = s.source AND c.external_ref = s.external_ref
       AND c.address IS NOT DISTINCT FROM s.address
    """
)
_PENDING = text("SELECT row_no, address FROM complaint_stage WHERE lon IS NULL ORDER BY row_no")
_WRITE_BACK = text(
    """
    UPDATE complaint_stage s
       SET lon = u.lon, lat = u.lat, location_precision = u.precision::location_precision,
           geocode_status = u.status::geocode_status, gazetteer_version_id = u.version,
           geocode_score = u.score, geocode_matched = u.matched,
           geocode_candidates = u.candidates::jsonb, comuna_code = :comuna
      FROM unnest(:row_no, :lon, :lat, :precision, :status, :version, :score, :matched,
                  :candidates)
           AS u(row_no, lon, lat, precision, status, version, score, matched, candidates)
     WHERE s.row_no = u.row_no
    """
).bindparams(
    bindparam("row_no", type_=ARRAY(INTEGER)),
    bindparam("version", type_=ARRAY(INTEGER)),
    *(bindparam(n, type_=ARRAY(FLOAT)) for n in ("lon", "lat", "score")),
    *(bindparam(n, type_=ARRAY(TEXT)) for n in ("precision", "status", "matched", "candidates")),
)
# A geocoded point must lie in the comuna like any imported point (a place polygon may
# stick out of it): one that does not is queued instead of failing the whole import.
_OUTSIDE_TO_QUEUE = text(
    """
    UPDATE complaint_stage s
       SET lon = NULL, lat = NULL, location_precision = NULL, geocode_status = 'unplaced'
      FROM comuna c
     WHERE c.code = :comuna AND s.geocode_status = 'placed'
       AND NOT ST_Intersects(c.geom, s.geom)
       AND NOT ST_DWithin(c.geom::geography, s.geom::geography, :tolerance)
    """
)
# After the upsert: how each address-only row was placed, beside its complaint.
RECORD = text(
    """
    INSERT INTO complaint_geocode (complaint_id, status, gazetteer_version_id, score, matched,
                                   candidates, placed_by)
    SELECT c.id, s.geocode_status, s.gazetteer_version_id, s.geocode_score, s.geocode_matched,
           coalesce(s.geocode_candidates, '[]'), :loaded_by
      FROM complaint_stage s
      JOIN complaint c ON c.source = s.source AND c.external_ref = s.external_ref
     WHERE s.geocode_status IS NOT NULL
    ON CONFLICT (complaint_id) DO UPDATE SET
        status = excluded.status, gazetteer_version_id = excluded.gazetteer_version_id,
        score = excluded.score, matched = excluded.matched, candidates = excluded.candidates,
        placed_by = CASE WHEN excluded.status = 'manual' THEN complaint_geocode.placed_by
                         ELSE excluded.placed_by END,
        geocoded_at = CASE WHEN excluded.status = 'manual' THEN complaint_geocode.geocoded_at
                           ELSE now() END
    """
)
# A row now sent with coordinates is no longer the geocoder's.
FORGET = text(
    """
    DELETE FROM complaint_geocode g USING complaint c, complaint_stage s
     WHERE g.complaint_id = c.id AND c.source = s.source AND c.external_ref = s.external_ref
       AND s.geocode_status IS NULL
    """
)


@dataclass
class StagedGeocoding:
    placed: int = 0
    unplaced: int = 0


def geocoding_comuna(session: Session | Connection, comuna: str | None) -> str:
    """The comuna to geocode in: the one named, or the only one with a gazetteer."""
    loaded = sorted(
        set(
            session.scalars(
                select(GazetteerVersion.comuna_code).where(GazetteerVersion.current.is_(True))
            )
        )
    )
    if comuna is not None and comuna in loaded:
        return comuna
    if comuna is None and len(loaded) == 1:
        return loaded[0]
    if comuna is None and loaded:
        reason = f"hay nomenclátor para varias comunas ({', '.join(loaded)}): indique cuál"
    else:
        reason = f"la comuna {comuna or '-'} no tiene nomenclátor cargado (vigia gazetteer load)"
    raise InvalidInput(
        "No se puede geocodificar: " + reason + ".",
        errors=[{"field": "comuna", "reason": reason}],
        code="sin_nomenclator",
    )


def geocode_stage(conn: Connection, comuna: str) -> StagedGeocoding:
    conn.execute(_KEEP_MANUAL)
    pending = conn.execute(_PENDING).all()
    report = StagedGeocoding()
    if not pending:
        return report
    localities = locality_keys(conn, comuna)
    # a list repeats addresses: each distinct one is parsed and matched once
    distinct: dict[str, int] = {}
    for _, address in pending:
        distinct.setdefault(address or "", len(distinct))
    parsed = [parse_address(address, localities=localities) for address in distinct]
    found = geocode_parsed(conn, parsed, comuna=comuna)
    results = [found[distinct[address or ""]] for _, address in pending]
    report.placed = sum(r.placed for r in results)
    report.unplaced = len(results) - report.placed
    conn.execute(
        _WRITE_BACK,
        {
            "row_no": [row for row, _ in pending],
            "lon": [r.lon for r in results],
            "lat": [r.lat for r in results],
            "precision": [r.precision for r in results],
            "status": ["placed" if r.placed else "unplaced" for r in results],
            "version": [r.version_id for r in results],
            "score": [r.score for r in results],
            "matched": [r.matched for r in results],
            # the review queue needs the candidates of what it could not place only
            "candidates": [
                "[]" if r.placed else orjson.dumps(r.candidates).decode() for r in results
            ],
            "comuna": comuna,
        },
    )
    tolerance = get_territory_settings().comuna_tolerance_m
    moved = conn.execute(_OUTSIDE_TO_QUEUE, {"comuna": comuna, "tolerance": tolerance}).rowcount
    report.placed -= moved
    report.unplaced += moved
    return report
