"""The import's one-pass placement (app/complaints/staging.py PLACE) against the rule it
replaced: comuna by an UPDATE of the staging table, then barrio and micro-barrio by LATERAL
joins with ST_Intersects on the GiST indexes. The old statements are copied below as the
reference; on points chosen where rules differ if they differ (shared edges and corners,
the comuna's tolerance band, the rural remainder, swapped lat/lon), both must agree on
every row, including which rows are refused.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, FLOAT, TEXT
from sqlalchemy.orm import Session

from app.complaints.ingest import ImportMode, import_complaints
from app.complaints.staging import StageWriter
from app.settings import get_territory_settings
from tests.factories.complaints import make_csv_body

# The points, all from the loaded territory (Lanco): every vertex of every barrio and
# micro-barrio (each on a shared edge or corner), the middle of every shared edge, the
# comuna's vertices pushed outwards by 10 to 120 m (inside and outside the 50 m band, and
# outside every barrio), seeded points inside each barrio (the rural remainder has no
# micro-barrio) and some of them with lat/lon swapped.
_POINTS = text(
    """
    WITH units AS (SELECT code, geom FROM barrio UNION ALL SELECT code, geom FROM micro_barrio),
    vertices AS (
        SELECT DISTINCT ST_X(d.geom) AS lon, ST_Y(d.geom) AS lat
          FROM units u, ST_DumpPoints(u.geom) d),
    shared AS (
        SELECT ST_LineInterpolatePoint(l.geom, 0.5) AS p
          FROM units a JOIN units b ON a.code < b.code AND ST_Intersects(a.geom, b.geom),
               ST_Dump(ST_LineMerge(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)))
               AS l),
    band AS (
        SELECT ST_Translate(d.geom, dx * metres / 85900.0, dy * metres / 111000.0) AS p
          FROM comuna c, ST_DumpPoints(c.geom) d,
               (VALUES (10), (30), (49), (60), (120)) AS m(metres),
               (VALUES (-1, 0), (1, 0), (0, -1), (0, 1)) AS dir(dx, dy)
         WHERE d.path[array_length(d.path, 1)] % 7 = 0),
    inside AS (
        SELECT (ST_Dump(ST_GeneratePoints(b.geom, 40, 2026))).geom AS p FROM barrio b)
    SELECT lon, lat FROM vertices
    UNION ALL SELECT ST_X(p), ST_Y(p) FROM shared
    UNION ALL SELECT ST_X(p), ST_Y(p) FROM band
    UNION ALL SELECT ST_X(p), ST_Y(p) FROM inside
    UNION ALL SELECT ST_Y(p), ST_X(p) FROM (SELECT p FROM inside LIMIT 25) swapped
    """
)

# The rule as it was (RESOLVE_COMUNA, BARRIO_ID and UNIT_JOINS before the one-pass PLACE).
_OLD_RULE = text(
    """
    WITH p AS (
        SELECT ref, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom
          FROM unnest(:refs, :lons, :lats) AS t(ref, lon, lat)),
    s AS (
        SELECT ref, geom, COALESCE(
            (SELECT c.code FROM comuna c WHERE ST_Intersects(c.geom, p.geom)
              ORDER BY c.code LIMIT 1),
            (SELECT c.code FROM comuna c
              WHERE ST_DWithin(c.geom::geography, p.geom::geography, :tolerance)
              ORDER BY ST_Distance(c.geom::geography, p.geom::geography), c.code LIMIT 1))
            AS comuna_code
          FROM p),
    assigned AS (
        SELECT s.ref, s.comuna_code,
               COALESCE(b.id,
                   (SELECT nb.id FROM barrio nb
                     WHERE nb.comuna_code = s.comuna_code
                       AND ST_DWithin(nb.geom::geography, s.geom::geography, :tolerance)
                     ORDER BY ST_Distance(nb.geom::geography, s.geom::geography), nb.code
                     LIMIT 1)) AS barrio_id,
               m.id AS micro_barrio_id
          FROM s
          LEFT JOIN LATERAL (
                SELECT b.id FROM barrio b
                 WHERE b.comuna_code = s.comuna_code AND ST_Intersects(b.geom, s.geom)
                 ORDER BY b.code LIMIT 1) b ON true
          LEFT JOIN LATERAL (
                SELECT m.id FROM micro_barrio m
                 WHERE m.barrio_id = b.id AND ST_Intersects(m.geom, s.geom)
                 ORDER BY m.code LIMIT 1) m ON true)
    SELECT a.ref, a.comuna_code, b.code, m.code
      FROM assigned a
      LEFT JOIN barrio b ON b.id = a.barrio_id
      LEFT JOIN micro_barrio m ON m.id = a.micro_barrio_id
    """
).bindparams(
    bindparam("refs", type_=ARRAY(TEXT)),
    bindparam("lons", type_=ARRAY(FLOAT)),
    bindparam("lats", type_=ARRAY(FLOAT)),
)

_STORED = text(
    """
    SELECT c.external_ref, c.comuna_code, b.code, m.code
      FROM complaint c
      LEFT JOIN barrio b ON b.id = c.barrio_id
      LEFT JOIN micro_barrio m ON m.id = c.micro_barrio_id
     WHERE c.external_ref LIKE 'PLACE-%'
    """
)


@pytest.mark.parametrize("chunk", [StageWriter.ROWS_PER_CHUNK, 97])
def test_one_pass_placement_equals_the_lateral_rule(
    db: Session, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # 97 rows a chunk: most chunks are placed on the worker thread while the next is read
    monkeypatch.setattr(StageWriter, "ROWS_PER_CHUNK", chunk)
    points = db.execute(_POINTS).all()
    refs = [f"PLACE-{i:05d}" for i in range(len(points))]
    rows = [
        f"{ref},carabineros,556,2025-06-01T21:30:00,{lon!r},{lat!r},exact,"
        for ref, (lon, lat) in zip(refs, points, strict=True)
    ]
    report = import_complaints(
        db,
        io.BytesIO(make_csv_body(*rows)),
        fmt="csv",
        mode=ImportMode.SKIP_INVALID,
        loaded_by="cli:prueba",
    )
    tolerance = get_territory_settings().comuna_tolerance_m
    old = {
        ref: (comuna, barrio, micro)
        for ref, comuna, barrio, micro in db.execute(
            _OLD_RULE,
            {
                "refs": refs,
                "lons": [lon for lon, _ in points],
                "lats": [lat for _, lat in points],
                "tolerance": tolerance,
            },
        )
    }
    stored = {ref: (comuna, barrio, micro) for ref, comuna, barrio, micro in db.execute(_STORED)}
    refused_by_old = {ref for ref, (comuna, _, _) in old.items() if comuna is None}
    refused = {refs[p["row"] - 1] for p in report.errors}

    assert refused == refused_by_old
    assert stored == {ref: unit for ref, unit in old.items() if ref not in refused_by_old}

    # the fixture reaches every case it is meant to (else the comparison proves little)
    reasons = " ".join(p["reason"] for p in report.errors)
    assert "invertidas" in reasons
    assert "fuera de todas las comunas" in reasons
    assert any(micro is None and barrio == "BRUR" for _, barrio, micro in stored.values())
    on_edges = db.scalar(
        text(
            "SELECT count(*) FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[]))"
            " AS t(lon, lat) WHERE (SELECT count(*) FROM micro_barrio m WHERE ST_Intersects("
            "m.geom, ST_SetSRID(ST_MakePoint(lon, lat), 4326))) > 1"
        ),
        {"lons": [lon for lon, _ in points], "lats": [lat for _, lat in points]},
    )
    assert on_edges > 50
    in_band = db.scalar(
        text(
            "SELECT count(*) FROM complaint c WHERE c.external_ref LIKE 'PLACE-%' AND NOT "
            "ST_Intersects(c.geom, (SELECT geom FROM comuna WHERE code = c.comuna_code))"
        )
    )
    assert in_band > 0


def _mixed_file() -> bytes:
    """Rows whose fate depends on other rows and on the database: repeats of earlier rows
    (valid or not), a bad row, a point outside the comuna, a source the key may not load,
    changed and unchanged rows."""
    rows = [
        "M-1,carabineros,556,2025-06-01T21:30:00,-72.775,-39.452,exact,",
        "M-2,carabineros,999,2025-06-01T21:30:00,-72.775,-39.452,exact,",  # bad category
        "M-1,carabineros,351,2025-06-02T21:30:00,-72.776,-39.451,exact,",  # repeats row 1
        "M-2,carabineros,556,2025-06-01T21:30:00,-72.775,-39.452,exact,",  # repeats row 2
        "M-3,carabineros,556,2025-06-01T21:30:00,-72.0,-39.452,exact,",  # outside
        "M-4,pdi,556,2025-06-01T21:30:00,-72.7801,-39.4499,block,",
        "M-1,pdi,556,2025-06-01T21:30:00,-72.7702,-39.4530,exact,",  # another source
        "M-7,fiscalia,556,2025-06-01T21:30:00,-72.7702,-39.4530,exact,",  # source refused
        "M-5,carabineros,353,2025-06-03T10:00:00,-72.7790,-39.4560,street,",
        "M-6,carabineros,556,2025-06-04T10:00:00,-72.7740,-39.4480,exact,",
    ]
    return make_csv_body(*rows)


def _import_state(db: Session, body: bytes) -> tuple[object, ...]:
    report = import_complaints(
        db,
        io.BytesIO(body),
        fmt="csv",
        mode=ImportMode.SKIP_INVALID,
        loaded_by="cli:prueba",
        allowed_sources=frozenset({"carabineros", "pdi"}),
    )
    stored = db.execute(
        text(
            "SELECT source, external_ref, category_code, occurred_at, ST_AsText(geom),"
            " comuna_code, barrio_id, micro_barrio_id FROM complaint"
            " WHERE external_ref LIKE 'M-%' ORDER BY source, external_ref"
        )
    ).all()
    counts = (report.inserted, report.updated, report.unchanged, report.rejected)
    return counts, report.errors, stored


def test_chunked_staging_gives_the_same_import(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 2 rows (all but the last placed on the worker thread while the next is
    read) against one chunk: same report, same errors, same rows; then a re-import with
    one row changed (the update path)."""
    changed = _mixed_file().replace(b"M-5,carabineros,353", b"M-5,carabineros,351")
    results = []
    for chunk in (StageWriter.ROWS_PER_CHUNK, 2):
        monkeypatch.setattr(StageWriter, "ROWS_PER_CHUNK", chunk)
        savepoint = db.begin_nested()
        first = _import_state(db, _mixed_file())
        second = _import_state(db, changed)
        results.append((first, second))
        savepoint.rollback()
    assert results[0] == results[1]
    (counts, errors, stored), (again, _, _) = results[1]
    assert counts == (5, 0, 0, 5)
    assert [(e["row"], e["field"]) for e in errors] == [
        (2, "category"),
        (3, "external_ref"),
        (4, "external_ref"),
        (5, "lon,lat"),
        (8, "source"),
    ]
    assert again == (0, 1, 4, 5)
