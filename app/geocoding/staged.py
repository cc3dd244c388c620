"""Geocoding the address-only rows of a complaint import, inside its staging table.

The import's StageWriter (app/complaints/staging.py) hands each COPY chunk to a
`StageGeocoder` on its worker thread while Python reads the next chunk: the chunk's rows
without coordinates are geocoded in bulk (app/geocoding/matcher.py, one statement per
chunk) and written back with one UPDATE from a JSON array, then placed like the rows with
a point. Rows the geocoder cannot place keep no point, carry the geocoding comuna and go to
the review queue. A row an analyst already placed by hand, imported again with the same
address, keeps that placement. An address is matched alone (its candidates do not depend
on the other addresses of its batch), so chunking changes nothing but the time; one seen
in an earlier chunk is not matched again.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.geocoding.matcher import geocode_parsed, locality_keys
from app.geocoding.parse import ParsedAddress, parse_address
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
     WHERE s.row_no BETWEEN :first AND :last AND s.lon IS NULL AND NOT s.rejected
       AND g.status = 'manual' AND c.geom IS NOT NULL
       AND c.source = s.source AND c.external_ref = s.external_ref
       AND c.address IS NOT DISTINCT FROM s.address
    """
)
# Rows refused in Python are not geocoded; a row repeating an earlier reference is (it is
# only known once the whole file is staged) and is dropped with it afterwards.
_PENDING = text(
    "SELECT row_no, address FROM complaint_stage"
    " WHERE row_no BETWEEN :first AND :last AND lon IS NULL AND NOT rejected ORDER BY row_no"
)
# The outcomes arrive as one JSON array of objects (an object per row; see StageGeocoder):
# nine arrays of a chunk's rows cost more to send than to write.
_WRITE_BACK = text(
    """
    UPDATE complaint_stage s
       SET lon = u.lon, lat = u.lat, location_precision = u.precision::location_precision,
           geocode_status = u.status::geocode_status, gazetteer_version_id = u.version,
           geocode_score = u.score, geocode_matched = u.matched,
           geocode_candidates = u.candidates, comuna_code = :comuna
      FROM json_to_recordset(CAST(:outcomes AS json))
           AS u(row_no integer, lon double precision, lat double precision, precision text,
                status text, version integer, score double precision, matched text,
                candidates jsonb)
     WHERE s.row_no = u.row_no AND s.row_no BETWEEN :first AND :last
    """
)
# A geocoded point must lie in the comuna like any imported point (a place polygon may
# stick out of it): one that does not is queued instead of failing the whole import.
_OUTSIDE_TO_QUEUE = text(
    """
    UPDATE complaint_stage s
       SET lon = NULL, lat = NULL, location_precision = NULL, geocode_status = 'unplaced'
      FROM comuna c
     WHERE s.row_no BETWEEN :first AND :last AND c.code = :comuna
       AND s.geocode_status = 'placed'
       AND NOT ST_Intersects(c.geom, s.geom)
       AND NOT ST_DWithin(c.geom::geography, s.geom::geography, :tolerance)
    """
)
_COUNTS = text(
    """
    SELECT count(*) FILTER (WHERE geocode_status = 'placed'),
           count(*) FILTER (WHERE geocode_status = 'unplaced')
      FROM complaint_stage
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


class StageGeocoder:
    """Geocodes the staged rows of one import, a chunk (a range of row numbers) at a time.

    The importer's thread `read`s each address-only row as it is validated (parsing its
    address there, which takes the worker's Python time off the critical path); the
    worker (or the importer, for the last chunk) geocodes a chunk once it is staged.
    Remembers what each address gave, so a list that repeats an address matches it once;
    the memory is bounded (forgotten whole past `REMEMBERED` addresses).
    """

    REMEMBERED = 100_000

    def __init__(self, conn: Connection, comuna: str) -> None:
        self._conn, self.comuna = conn, comuna
        self._localities = locality_keys(conn, comuna)
        self._tolerance = get_territory_settings().comuna_tolerance_m
        self._seen: dict[str, bytes] = {}  # address -> its outcome, a JSON object
        self._parsed: dict[str, ParsedAddress] = {}  # read, not yet geocoded

    def read(self, address: str | None) -> None:
        """Parse a staged row's address ahead of its chunk (the importer's thread)."""
        key = address or ""
        if key not in self._parsed and key not in self._seen:
            if len(self._parsed) >= self.REMEMBERED:
                self._parsed.clear()
            self._parsed[key] = parse_address(key, localities=self._localities)

    def __call__(self, first: int, last: int) -> None:
        rows = {"first": first, "last": last}
        self._conn.execute(_KEEP_MANUAL, rows)
        pending = self._conn.execute(_PENDING, rows).all()
        if not pending:
            return
        outcomes = self._outcomes([address or "" for _, address in pending])
        # each row's object is its address's with the row number put first
        written = b",".join(
            b'{"row_no":%d,%s' % (row, outcome[1:])
            for (row, _), outcome in zip(pending, outcomes, strict=True)
        )
        self._conn.execute(
            _WRITE_BACK,
            {"outcomes": (b"[%s]" % written).decode(), "comuna": self.comuna, **rows},
        )
        self._conn.execute(
            _OUTSIDE_TO_QUEUE, {"comuna": self.comuna, "tolerance": self._tolerance, **rows}
        )

    def _outcomes(self, addresses: list[str]) -> list[bytes]:
        distinct = dict.fromkeys(addresses)
        if len(self._seen) + len(distinct) > self.REMEMBERED:
            self._seen.clear()
        new = [address for address in distinct if address not in self._seen]
        parsed = [self._parse(address) for address in new]
        results = geocode_parsed(self._conn, parsed, comuna=self.comuna)
        for address, result in zip(new, results, strict=True):
            self._seen[address] = orjson.dumps(
                {
                    "lon": result.lon,
                    "lat": result.lat,
                    "precision": result.precision,
                    "status": "placed" if result.placed else "unplaced",
                    "version": result.version_id,
                    "score": result.score,
                    "matched": result.matched,
                    # the review queue needs the candidates of what it could not place only
                    "candidates": [] if result.placed else result.candidates,
                }
            )
        seen = self._seen
        return [seen[address] for address in addresses]

    def _parse(self, address: str) -> ParsedAddress:
        ahead: ParsedAddress | None = self._parsed.pop(address, None)
        return ahead or parse_address(address, localities=self._localities)


def staged_counts(conn: Connection) -> StagedGeocoding:
    """Placed and queued rows, once the refused and repeated ones left the staging table."""
    placed, unplaced = conn.execute(_COUNTS).one()
    return StagedGeocoding(placed=placed, unplaced=unplaced)
