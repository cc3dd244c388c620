"""The SQL of the complaint import's staging table (`ingest` runs it in this order).

A TEMP table takes the validated rows by COPY, a chunk at a time (StageWriter); as each
chunk lands, its address-only rows are geocoded (when the import geocodes) and PostGIS
gives its points their comuna (inside, or within the tolerance), barrio and micro-barrio
into a narrow TEMP table beside it, while Python reads the next chunk. Then PostGIS finds
repeated references, names the rows outside every comuna (swapped lat/lon recognised), and
one INSERT ... SELECT / UPDATE upserts on (source, external_ref), touching only rows whose
data changed.
"""

from __future__ import annotations

import contextlib
import csv
import io
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

import psycopg
from sqlalchemy import Connection, TextClause, text

if TYPE_CHECKING:
    from app.complaints.schemas import ComplaintCreate

CREATE_STAGE = text("""
    CREATE TEMP TABLE complaint_stage (
        row_no integer PRIMARY KEY,
        external_ref text NOT NULL,
        source complaint_source NOT NULL,
        category_code text NOT NULL,
        occurred_at timestamptz NOT NULL,
        lon double precision,
        lat double precision,
        location_precision location_precision,
        address text,
        geom geometry(Point, 4326)
            GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
        rejected boolean NOT NULL,
        comuna_code text,
        existing boolean NOT NULL DEFAULT false,
        -- address-only rows (app/geocoding/staged.py): how the geocoder placed them
        geocode_status geocode_status,
        gazetteer_version_id integer,
        geocode_score double precision,
        geocode_matched text,
        geocode_candidates jsonb
    ) ON COMMIT DROP
""")
DROP_STAGE = text("DROP TABLE IF EXISTS pg_temp.complaint_stage")
COPY_STAGE = (
    "COPY complaint_stage (row_no, external_ref, source, category_code, occurred_at, lon, lat,"
    " location_precision, address, rejected) FROM STDIN WITH (FORMAT csv)"
)
# A (source, external_ref) seen earlier in the file: every later row with it is refused,
# whether or not the first one was valid otherwise (the first one is kept if it is). The
# rows refused here or in Python leave the staging table before anything is resolved.
REPEATED = text("""
    WITH repeated AS (
        SELECT s.row_no, s.source, d.first
          FROM (SELECT source, external_ref, min(row_no) AS first FROM complaint_stage
                 GROUP BY source, external_ref HAVING count(*) > 1) d
          JOIN complaint_stage s USING (source, external_ref)
         WHERE s.row_no > d.first),
    dropped AS (
        DELETE FROM complaint_stage
         WHERE rejected OR row_no IN (SELECT row_no FROM repeated))
    SELECT row_no, source, first FROM repeated ORDER BY row_no
""")


# The rule, as SQL fragments over a point `{point}` (and, below, its comuna `{comuna}`);
# the staged import and the manual placement of a queued complaint
# (app/geocoding/review.py) both use them.
#
# Comuna: the one containing the point, lowest code on a shared edge; failing that, the
# nearest within the tolerance. COALESCE evaluates the metre-based fallback only for points
# outside every polygon.
COMUNA_CODE = """
           COALESCE(
               (SELECT c.code FROM comuna c WHERE ST_Intersects(c.geom, {point})
                 ORDER BY c.code LIMIT 1),
               (SELECT c.code FROM comuna c
                 WHERE ST_DWithin(c.geom::geography, {point}::geography, :tolerance)
                 ORDER BY ST_Distance(c.geom::geography, {point}::geography), c.code LIMIT 1))
"""
# Barrio: the one containing the point, lowest code on a shared edge (for a tiling this is
# the rule of territory.locate); for points in the tolerance band just outside every
# barrio, the nearest one. Micro-barrio: inside the chosen barrio only, lowest code on a
# shared edge; none in barrios that are not subdivided (the rural remainder).
BARRIO_ID = """
           COALESCE(b.id,
               (SELECT nb.id FROM barrio nb
                 WHERE nb.comuna_code = {comuna}
                   AND ST_DWithin(nb.geom::geography, {point}::geography, :tolerance)
                 ORDER BY ST_Distance(nb.geom::geography, {point}::geography), nb.code
                 LIMIT 1)) AS barrio_id,
           m.id AS micro_barrio_id
"""
# The micro-barrios are those of the chosen barrio (its foreign-key index), tested against
# the point in code order until one contains it. OFFSET 0 keeps the planner from turning
# ST_Intersects into a probe of the GiST index over every micro-barrio of the territory,
# which it prefers and which cost three times as much (a GiST leaf holds hundreds of boxes
# to compare; a barrio, a dozen micro-barrios); the inner ORDER BY lets the outer one stop
# at the first match without sorting again. Same predicate, same order: the same
# micro-barrio.
UNIT_JOINS = """
      LEFT JOIN LATERAL (
            SELECT b.id FROM barrio b
             WHERE b.comuna_code = {comuna} AND ST_Intersects(b.geom, {point})
             ORDER BY b.code LIMIT 1) b ON true
      LEFT JOIN LATERAL (
            SELECT m.id
              FROM (SELECT id, code, geom FROM micro_barrio
                     WHERE barrio_id = b.id ORDER BY code OFFSET 0) m
             WHERE ST_Intersects(m.geom, {point})
             ORDER BY m.code LIMIT 1) m ON true
"""
# Every staged row's comuna, barrio and micro-barrio in one pass, kept beside the staging
# table (narrow, by row_no) rather than written into it: rewriting the wide staged rows
# cost more than the lookups. Rows the geocoder left without a point keep the comuna they
# were geocoded in (and no barrio). A NULL comuna_code is a point outside every comuna.
# (OFFSET 0: the comuna is looked up once per row, not once per place the planner would
# otherwise copy its expression into.)
CREATE_PLACE = text("""
    CREATE TEMP TABLE complaint_place (
        row_no integer NOT NULL,
        comuna_code text,
        barrio_id integer,
        micro_barrio_id integer
    ) ON COMMIT DROP
""")
DROP_PLACE = text("DROP TABLE IF EXISTS pg_temp.complaint_place")


def _place(rows: str) -> TextClause:
    return text(
        """
    INSERT INTO complaint_place (row_no, comuna_code, barrio_id, micro_barrio_id)
    SELECT s.row_no, c.code,"""
        + BARRIO_ID.format(point="s.geom", comuna="c.code")
        + """
      FROM complaint_stage s
     CROSS JOIN LATERAL (
           SELECT CASE WHEN s.geom IS NULL THEN s.comuna_code ELSE"""
        + COMUNA_CODE.format(point="s.geom")
        + """           END AS code
           OFFSET 0) c"""
        + UNIT_JOINS.format(point="s.geom", comuna="c.code")
        + "\n     WHERE "
        + rows
    )


# The rows of one COPY chunk (StageWriter), placed while the next is parsed: those with a
# point, and the address-only ones once the geocoder placed them or left them without one.
PLACE_CHUNK = _place(
    "s.row_no BETWEEN :first AND :last AND (s.geom IS NOT NULL OR s.geocode_status IS NOT NULL)"
)
# Row counts for the planner, so the INSERT joins the two tables by hashing.
ANALYZE_PLACE = text("ANALYZE complaint_place (row_no)")
OUTSIDE = text("""
    SELECT s.row_no, s.lon, s.lat,
           (SELECT c.name FROM comuna c
             WHERE ST_Intersects(c.geom, ST_SetSRID(ST_MakePoint(s.lat, s.lon), 4326))
             ORDER BY c.code LIMIT 1) AS swapped_into
      FROM complaint_place p
      JOIN complaint_stage s ON s.row_no = p.row_no
     WHERE p.comuna_code IS NULL
     ORDER BY s.row_no
""")
DROP_OUTSIDE = text("""
    DELETE FROM complaint_stage s USING complaint_place p
     WHERE p.row_no = s.row_no AND p.comuna_code IS NULL
""")
ASSIGNED = """
    SELECT p.comuna_code, s.category_code, cat.taxonomy_version, s.occurred_at, s.geom,
           s.location_precision, s.address, s.source, s.external_ref, p.barrio_id,
           p.micro_barrio_id
      FROM complaint_stage s
      JOIN complaint_place p ON p.row_no = s.row_no
      JOIN crime_category cat ON cat.code = s.category_code"""
# Which staged rows are already stored (same source + external_ref): they take the UPDATE
# path, the rest a plain INSERT, so a first import pays no upsert machinery per row.
MARK_EXISTING = text("""
    UPDATE complaint_stage s SET existing = true
      FROM complaint c
     WHERE c.source = s.source AND c.external_ref = s.external_ref
""")
# New rows, with the barrio and micro-barrio PLACE gave them. DO NOTHING only
# covers a concurrent import of the same rows (they are then neither inserted nor counted).
# Inserted in the geometry's (space-filling curve) order: neighbours go to neighbouring
# pages of the GiST indexes and of the table, which made the insert cheaper than in file order.
INSERT_NEW = text(
    """
    INSERT INTO complaint (
        comuna_code, category_code, taxonomy_version, occurred_at, geom,
        location_precision, address, source, external_ref, barrio_id, micro_barrio_id,
        loaded_by)
    SELECT a.*, :loaded_by FROM ("""
    + ASSIGNED
    + """ WHERE NOT s.existing) a
    ORDER BY a.geom
    ON CONFLICT (source, external_ref) DO NOTHING
"""
)
# Rows already stored: rewritten only where something changed.
UPDATE_EXISTING = text(
    """
    UPDATE complaint t SET
        comuna_code = a.comuna_code,
        category_code = a.category_code,
        taxonomy_version = a.taxonomy_version,
        occurred_at = a.occurred_at,
        geom = a.geom,
        location_precision = a.location_precision,
        address = a.address,
        barrio_id = a.barrio_id,
        micro_barrio_id = a.micro_barrio_id,
        loaded_by = :loaded_by
      FROM ("""
    + ASSIGNED
    + """ WHERE s.existing) a
     WHERE t.source = a.source AND t.external_ref = a.external_ref
       AND (t.comuna_code, t.category_code, t.taxonomy_version, t.occurred_at, t.geom,
            t.location_precision, t.address, t.barrio_id, t.micro_barrio_id)
           IS DISTINCT FROM
           (a.comuna_code, a.category_code, a.taxonomy_version, a.occurred_at, a.geom,
            a.location_precision, a.address, a.barrio_id, a.micro_barrio_id)
"""
)


class Geocoder(Protocol):
    """app/geocoding/staged.py StageGeocoder, as the StageWriter uses it."""

    def read(self, address: str | None) -> None:
        """An address-only row is being staged (called on the importer's thread)."""

    def __call__(self, first: int, last: int) -> None:
        """Geocode the staged address-only rows in that range of row numbers, on the
        connection the StageWriter was given."""


class StageWriter:
    """Validated rows into the staging table as CSV text through COPY, a chunk at a time,
    each chunk geocoded (with a `geocoder`) and placed (PLACE_CHUNK) by PostgreSQL on a
    worker thread while Python parses and validates the next one: the two halves of an
    import used to take turns on a two-core machine, and now overlap. The connection is
    used by one thread at a time (the next COPY waits for the last chunk's work); the
    final, partial chunk is handled inline, so a one-row import starts no thread.

    psycopg's `write_row` formats each value in Python, which took a quarter of the Python
    time of an import; the C `csv` writer does the same job for a chunk at once.
    """

    ROWS_PER_CHUNK = 10_000

    def __init__(
        self, conn: Connection, tolerance_m: float, geocoder: Geocoder | None = None
    ) -> None:
        driver = conn.connection.driver_connection
        assert driver is not None
        self._conn, self._driver, self._tolerance = conn, driver, tolerance_m
        self._geocoder = geocoder
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")
        self._rows: list[int] = []  # first and last row number of the chunk
        self._pending = 0
        self._pool: ThreadPoolExecutor | None = None
        self._placing: Future[object] | None = None

    def __enter__(self) -> StageWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            if exc_type is None:
                self._flush(background=False)
            else:  # the caller rolls back: first let the placement in flight end
                with contextlib.suppress(Exception):
                    self._wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown()

    def add(self, row: int, complaint: ComplaintCreate, rejected: bool) -> None:
        # StrEnum members are written as their values; None (no address) as NULL
        self._writer.writerow(
            (
                row,
                complaint.external_ref,
                complaint.source,
                complaint.category,
                complaint.occurred_at.isoformat(),
                complaint.lon,
                complaint.lat,
                complaint.precision,
                complaint.address,
                "t" if rejected else "f",
            )
        )
        if self._geocoder is not None and not complaint.located and not rejected:
            self._geocoder.read(complaint.address)
        if not self._pending:
            self._rows = [row, row]
        self._rows[1] = row
        self._pending += 1
        if self._pending == self.ROWS_PER_CHUNK:
            self._flush(background=True)

    def _flush(self, *, background: bool) -> None:
        self._wait()
        if not self._pending:
            return
        chunk = self._buffer.getvalue()
        if "\x00" in chunk:  # the error psycopg raised when it formatted the rows itself
            raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        with self._driver.cursor() as cursor, cursor.copy(COPY_STAGE) as copy:
            copy.write(chunk)
        self._buffer.seek(0)
        self._buffer.truncate()
        self._pending = 0
        first, last = self._rows
        if not background:
            self._settle(first, last)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigia-place")
        self._placing = self._pool.submit(self._settle, first, last)

    def _settle(self, first: int, last: int) -> None:
        """Geocode and place one staged chunk."""
        if self._geocoder is not None:
            self._geocoder(first, last)
        params = {"first": first, "last": last, "tolerance": self._tolerance}
        self._conn.execute(PLACE_CHUNK, params)

    def _wait(self) -> None:
        if self._placing is not None:
            placing, self._placing = self._placing, None
            placing.result()
