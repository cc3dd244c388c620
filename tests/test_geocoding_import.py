"""Complaints that arrive as addresses: the import geocodes them, queues the rest, and the
queue is worked by hand (audited). Unplaced complaints count in totals and in the
georeferencing indicator's denominator, never in anything spatial."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.complaints.ingest import ImportMode, import_complaints
from app.complaints.staging import StageWriter
from app.demo.town import address_corpus, build_town
from app.geocoding.staged import StageGeocoder
from app.models import Complaint
from app.models.gazetteer import ComplaintGeocode, GazetteerVersion
from app.near_repeat.service import category_events
from app.ogc import cells
from app.privacy.runner import rules_from_db
from app.reports.indicators import dmcs_georeferenced
from app.reports.period import Month, Period
from app.scoring.snapshot import Period as ScoringPeriod
from tests.factories.complaints import complaint_count
from tests.factories.gazetteer import LANCO, load_town, metres_between, town_lonlat
from tests.factories.keys import Keys
from tests.helpers import assert_matches_schema, assert_problem

IMPORT = "/api/v1/complaints/import"
HEADER = "external_ref,source,category,occurred_at,lon,lat,precision,address"
ROWS = [
    # 556 Hurtos (DMCS)
    'G-1,carabineros,556,2025-05-03T10:00:00,,,,"Baquedano 345"',
    'G-2,carabineros,556,2025-05-04T10:00:00,,,,"Pje. Los Cisnes 12, Villa Los Aromos"',
    'G-3,carabineros,556,2025-05-05T10:00:00,,,,"Los Mañíos 34"',
    'G-4,carabineros,556,2025-05-06T10:00:00,,,,"Av. Centenario esq. Yungay"',
    "G-5,carabineros,556,2025-05-07T10:00:00,-72.775,-39.452,exact,",
]
MAY = Period(Month(2025, 5), Month(2025, 5))


@pytest.fixture
def town(db: Session, tmp_path: Path) -> Path:
    load_town(db, tmp_path)
    return tmp_path


def post(client: TestClient, headers: dict[str, str], rows: list[str], **params: str) -> Any:
    body = ("\n".join([HEADER, *rows]) + "\n").encode()
    return client.post(
        IMPORT, content=body, headers={**headers, "Content-Type": "text/csv"}, params=params
    )


def stored(db: Session, ref: str) -> Complaint:
    found = db.scalars(select(Complaint).where(Complaint.external_ref == ref)).one()
    db.refresh(found)
    return found


def test_address_rows_without_geocode_are_refused(
    client: TestClient, db: Session, keys: Keys, town: Path
) -> None:
    body = assert_problem(post(client, keys.h("police"), ROWS), 422, "importacion_rechazada")
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (1, "lon,lat"),
        (2, "lon,lat"),
        (3, "lon,lat"),
        (4, "lon,lat"),
    ]
    assert complaint_count(db) == 0


def test_an_address_row_needs_an_address(
    client: TestClient, db: Session, keys: Keys, town: Path
) -> None:
    rows = ["G-9,carabineros,556,2025-05-03T10:00:00,,,,", ROWS[0]]
    body = assert_problem(post(client, keys.h("police"), rows, geocode="true"), 422)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(1, "address")]
    assert complaint_count(db) == 0


def test_geocode_without_a_gazetteer_is_a_clear_problem(
    client: TestClient, db: Session, keys: Keys
) -> None:
    body = assert_problem(
        post(client, keys.h("police"), ROWS, geocode="true"), 422, "sin_nomenclator"
    )
    assert body["errors"][0]["field"] == "comuna"
    assert complaint_count(db) == 0


def test_import_places_what_it_can_and_queues_the_rest(
    client: TestClient, db: Session, keys: Keys, town: Path, openapi: dict[str, Any]
) -> None:
    response = post(client, keys.h("police"), ROWS, geocode="true")
    assert response.status_code == 200, response.text
    assert_matches_schema(openapi, IMPORT, "POST", response)
    report = response.json()
    assert (report["rows"], report["inserted"], report["rejected"]) == (5, 5, 0)
    assert (report["geocoded"], report["unplaced"]) == (3, 1)
    placed, queued = stored(db, "G-1"), stored(db, "G-3")
    assert placed.geom is not None
    assert placed.location_precision == "block"
    assert placed.barrio_id is not None
    assert placed.micro_barrio_id is not None
    assert queued.geom is None
    assert queued.location_precision is None
    assert queued.barrio_id is None
    assert queued.comuna_code == LANCO
    records = {r.complaint_id: r for r in db.scalars(select(ComplaintGeocode))}
    version = db.scalar(select(GazetteerVersion.id).where(GazetteerVersion.source_name == "calles"))
    assert records[placed.id].status == "placed"
    assert records[placed.id].gazetteer_version_id == version
    assert records[queued.id].status == "unplaced"
    assert records[queued.id].candidates
    assert stored(db, "G-5").id not in records  # it came with its point


def test_unplaced_count_in_totals_and_the_indicator_but_in_nothing_spatial(
    client: TestClient, db: Session, keys: Keys, town: Path
) -> None:
    post(client, keys.h("police"), ROWS, geocode="true")
    stats = client.get("/api/v1/complaints/stats", headers=keys.h("planner")).json()
    assert stats["total"] == 5
    listed = client.get("/api/v1/complaints", headers=keys.h("planner")).json()
    assert listed["numberReturned"] == 4
    items = client.get("/ogc/collections/complaints/items", headers=keys.h("admin")).json()
    assert items["numberReturned"] == 4
    # the plan's indicator: placed at block level or better in a micro-barrio / all DMCS
    assert dmcs_georeferenced(db, LANCO, MAY, datetime.now().astimezone()) == 80.0
    # spatial uses skip it without failing
    assert LANCO in cells.refresh_stale(db)
    cell_total = db.scalar(text("SELECT sum(n) FROM complaint_cell WHERE z = 0"))
    assert cell_total == 4
    assert len(rules_from_db(db).exact_points) == 4
    scoring_may = ScoringPeriod(date(2025, 5, 1), date(2025, 6, 1))
    lon, _, _ = category_events(db, None, comuna=LANCO, category="556", period=scoring_may)
    assert len(lon) == 4


def test_the_queue_and_a_manual_placement(
    client: TestClient, db: Session, keys: Keys, town: Path, openapi: dict[str, Any]
) -> None:
    post(client, keys.h("police"), ROWS, geocode="true")
    assert_problem(client.get("/api/v1/complaints/unplaced", headers=keys.h("planner")), 403)
    assert client.get("/api/v1/complaints/unplaced", headers=keys.h("pdi")).json()["total"] == 0
    response = client.get("/api/v1/complaints/unplaced", headers=keys.h("police"))
    assert_matches_schema(openapi, "/api/v1/complaints/unplaced", "GET", response)
    queue = response.json()
    assert queue["total"] == 1
    item = queue["items"][0]
    assert item["address"] == "Los Mañíos 34"
    assert item["external_ref"] == "G-3"
    url = f"/api/v1/complaints/{item['id']}/placement"
    lon, lat = town_lonlat(-310, -155)
    # another institution's complaint does not exist for a police key of the PDI
    assert_problem(
        client.post(
            url, json={"lon": lon, "lat": lat, "precision": "exact"}, headers=keys.h("pdi")
        ),
        404,
    )
    outside = client.post(
        url, json={"lon": -70.65, "lat": -33.45, "precision": "exact"}, headers=keys.h("police")
    )
    assert [e["field"] for e in assert_problem(outside, 422)["errors"]] == ["lon,lat"]
    assert stored(db, "G-3").geom is None
    placed = client.post(
        url, json={"lon": lon, "lat": lat, "precision": "exact"}, headers=keys.h("police")
    )
    assert placed.status_code == 200, placed.text
    assert_matches_schema(openapi, "/api/v1/complaints/{complaint_id}/placement", "POST", placed)
    body = placed.json()
    complaint = stored(db, "G-3")
    barrio = db.scalar(text("SELECT code FROM barrio WHERE id = :i"), {"i": complaint.barrio_id})
    micro = db.scalar(
        text("SELECT code FROM micro_barrio WHERE id = :i"), {"i": complaint.micro_barrio_id}
    )
    expected = db.execute(
        text(
            "SELECT b.code, m.code FROM barrio b JOIN micro_barrio m ON m.barrio_id = b.id "
            "WHERE ST_Intersects(m.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
        ),
        {"lon": lon, "lat": lat},
    ).one()
    assert (body["barrio"], body["micro_barrio"]) == (barrio, micro) == tuple(expected)
    assert complaint.location_precision == "exact"
    record = db.get(ComplaintGeocode, complaint.id)
    assert record is not None
    assert record.status == "manual"
    event = db.execute(
        text(
            "SELECT actor, detail FROM audit_event WHERE action = 'complaint.place' "
            "AND object_id = :id"
        ),
        {"id": str(complaint.id)},
    ).one()
    assert event.detail["micro_barrio"] == micro
    assert event.detail["was_unplaced"] is True
    assert record.placed_by == event.actor
    assert client.get("/api/v1/complaints/unplaced", headers=keys.h("police")).json()["total"] == 0
    # importing the same file again keeps the analyst's placement
    again = post(client, keys.h("police"), ROWS, geocode="true").json()
    assert again["unplaced"] == 0
    kept = stored(db, "G-3")
    assert db.scalar(func.ST_X(kept.geom)) == pytest.approx(lon)
    assert db.get(ComplaintGeocode, kept.id).status == "manual"  # type: ignore[union-attr]


def test_a_bad_placement_body_writes_nothing(
    client: TestClient, db: Session, keys: Keys, town: Path
) -> None:
    post(client, keys.h("police"), ROWS, geocode="true")
    queued = stored(db, "G-3")
    url = f"/api/v1/complaints/{queued.id}/placement"
    for body in (
        {"lon": "x", "lat": -39.45, "precision": "exact"},
        {"lon": -72.77, "lat": -39.45},
        {"lon": -72.77, "lat": -39.45, "precision": "cerca"},
        {"lon": -72.77, "lat": 95, "precision": "exact"},
    ):
        assert_problem(client.post(url, json=body, headers=keys.h("police")), 422)
    missing = "/api/v1/complaints/00000000-0000-0000-0000-000000000000/placement"
    assert_problem(
        client.post(
            missing,
            json={"lon": -72.77, "lat": -39.45, "precision": "exact"},
            headers=keys.h("admin"),
        ),
        404,
    )
    assert stored(db, "G-3").geom is None


def test_geojson_features_without_geometry_are_geocoded(
    client: TestClient, db: Session, keys: Keys, town: Path
) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "external_ref": "GJ-1",
                    "source": "carabineros",
                    "category": "556",
                    "occurred_at": "2025-05-03T10:00:00",
                    "address": "Yungay 101",
                },
            }
        ],
    }
    response = client.post(
        IMPORT,
        json=doc,
        params={"geocode": "true"},
        headers=keys.h("police"),
    )
    assert response.json()["geocoded"] == 1, response.text
    complaint = stored(db, "GJ-1")
    point = (db.scalar(func.ST_X(complaint.geom)), db.scalar(func.ST_Y(complaint.geom)))
    assert metres_between(point, town_lonlat(-400, 10)) < 0.5


def test_open311_address_string_goes_through_the_geocoder(
    client: TestClient, db: Session, keys: Keys, town: Path
) -> None:
    form = {"api_key": keys.police, "service_code": "microbasural"}
    created = client.post(
        "/open311/v2/requests.json", data={**form, "address_string": "Baquedano 345"}
    )
    assert created.status_code == 201, created.text
    rid = created.json()[0]["service_request_id"]
    report = client.get(f"/api/v1/risk-factors/{rid}", headers=keys.h("admin")).json()
    point = tuple(report["geometry"]["coordinates"])
    assert metres_between(point, town_lonlat(-310, -200 + 100 * 44 / 98)) < 0.5
    unknown = client.post(
        "/open311/v2/requests.json", data={**form, "address_string": "Los Mañíos 34"}
    )
    assert unknown.status_code == 400  # GeoReport v2's status for bad input
    assert "address_string" in unknown.json()[0]["description"]


def _corpus_file(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER.split(","))
    writer.writerows(rows)
    return out.getvalue().encode()


_GEOCODED_STATE = text(
    """
    SELECT c.external_ref, ST_AsText(c.geom), c.location_precision, c.comuna_code,
           c.barrio_id, c.micro_barrio_id, g.status, g.gazetteer_version_id, g.score,
           g.matched, g.candidates
      FROM complaint c LEFT JOIN complaint_geocode g ON g.complaint_id = c.id
     WHERE c.external_ref LIKE 'K-%' ORDER BY c.external_ref
    """
)


def test_chunks_geocode_as_one(db: Session, town: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The address-only rows are geocoded a COPY chunk at a time on the worker thread; with
    7-row chunks (and a geocoder that forgets what it saw every few addresses) the import
    gives the same report, errors, points, precision tags, scores, candidates and queue as
    with one chunk, on the first import and on a re-import with changes."""
    corpus = address_corpus(build_town(), 90, seed=22)
    rows = [
        [f"K-{i:03d}", "carabineros", "556", "2025-05-03T10:00:00", "", "", "", a.text]
        for i, a in enumerate(corpus)
    ]
    rows += [  # addresses repeated in other chunks, a bad row, a repeated reference
        [f"K-{100 + i:03d}", "carabineros", "556", "2025-05-04T10:00:00", "", "", "", r[7]]
        for i, r in enumerate(rows[:20])
    ]
    rows.append(["K-200", "carabineros", "nope", "2025-05-05T10:00:00", "", "", "", "Yungay 101"])
    rows.append(["K-005", "carabineros", "556", "2025-05-06T10:00:00", "", "", "", "Yungay 101"])
    rows.append(["K-201", "carabineros", "556", "2025-05-06T10:00:00", "-72.775", "-39.452",
                 "exact", ""])  # fmt: skip
    changed = [list(r) for r in rows]
    changed[3][7], changed[40][4:7] = "Baquedano 345", ["-72.776", "-39.451", "block"]
    results = []
    for chunk, remembered in ((StageWriter.ROWS_PER_CHUNK, StageGeocoder.REMEMBERED), (7, 10)):
        monkeypatch.setattr(StageWriter, "ROWS_PER_CHUNK", chunk)
        monkeypatch.setattr(StageGeocoder, "REMEMBERED", remembered)
        savepoint = db.begin_nested()
        states = []
        for body in (_corpus_file(rows), _corpus_file(changed)):
            report = import_complaints(
                db,
                io.BytesIO(body),
                fmt="csv",
                mode=ImportMode.SKIP_INVALID,
                loaded_by="cli:prueba",
                geocode=True,
            )
            states.append((report, db.execute(_GEOCODED_STATE).all()))
        results.append(states)
        savepoint.rollback()
    assert results[0] == results[1]
    (first, stored_rows), (second, _) = results[1]
    assert (first.rows, first.inserted, first.rejected) == (113, 111, 2)
    assert [(e["row"], e["field"]) for e in first.errors] == [
        (111, "category"),
        (112, "external_ref"),
    ]
    assert first.geocoded + first.unplaced == 110
    assert 0 < first.unplaced < first.geocoded
    assert len({r.status for r in stored_rows}) == 3  # placed, unplaced, and a row with a point
    assert (second.updated, second.geocoded + second.unplaced) == (2, 109)
