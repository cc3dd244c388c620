"""The gazetteer and the geocoder against hand-computed points, in PostGIS.

The synthetic town (app/demo/town.py) is a grid of 100 m blocks centred on ORIGIN: east-west
streets at y = -400 ... 400 m, north-south ones at x = -400 ... 400 m, each block k of a
street numbered (k + 1) * 100 + 1 .. + 99 on its left (odd) and + 0 .. + 98 on its right
(even), digitised west to east and south to north. Houses stand 10 m from the centreline
(VIGIA_GEOCODE_SIDE_OFFSET_M).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import osmium
import pytest
from fastapi.testclient import TestClient
from pyproj import Geod
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.demo.town import ORIGIN, ROAD_M
from app.errors import InvalidInput
from app.geocoding.loader import load_gazetteer
from app.geocoding.matcher import geocode_many
from app.geocoding.reader import GazetteerFileError, read_gazetteer
from app.models.gazetteer import GazetteerSegment, GazetteerStreet, GazetteerVersion
from tests.factories.gazetteer import LANCO, load_town, metres_between, town_lonlat, write_town
from tests.factories.keys import Keys
from tests.helpers import assert_matches_schema, assert_problem


@pytest.fixture
def town(db: Session, tmp_path: Path) -> Path:
    load_town(db, tmp_path)
    return tmp_path


def one(db: Session, address: str, **kwargs: Any) -> Any:
    return geocode_many(db, [address], comuna=LANCO, **kwargs)[0]


# --- interpolation, intersections, km, places ---------------------------------------------


@pytest.mark.usefixtures("town")
@pytest.mark.parametrize(
    ("address", "x", "y"),
    [
        # Baquedano runs north at x = -300; 345 is odd (left = west), block 300-399 spans
        # y = -200 .. -100 and 345 is (345 - 301) / (399 - 301) of the way along it
        ("Baquedano 345", -300 - 10, -200 + 100 * 44 / 98),
        # 346 even (right = east): (346 - 300) / (398 - 300)
        ("Calle Baquedano N° 346", -300 + 10, -200 + 100 * 46 / 98),
        # Yungay runs east at y = 0; 101 is the first left (north) house of its first block
        ("YUNGAY 101", -400, 0 + 10),
        # Porvenir (y = 400), 898 the last right (south) house of block 800-899 (x 300..400)
        ("Porvenir 898", 400, 400 - 10),
    ],
)
def test_house_numbers_are_interpolated_along_the_block_and_set_off_to_their_side(
    db: Session, address: str, x: float, y: float
) -> None:
    result = one(db, address)
    assert (result.placed, result.precision) == (True, "block"), result
    assert metres_between((result.lon, result.lat), town_lonlat(x, y)) < 0.5


@pytest.mark.usefixtures("town")
@pytest.mark.parametrize(
    ("address", "x", "y"),
    [
        ("Av. Centenario esq. Yungay", -400, 0),
        ("Yungay con Avenida Centenario", -400, 0),
        ("Porvenir y Luis Aguirre Pinto", 400, 400),
        ("Gabriela Mistral / Francisco Peña", -200, -300),
    ],
)
def test_intersections_are_where_the_two_streets_cross(
    db: Session, address: str, x: float, y: float
) -> None:
    result = one(db, address)
    assert result.placed
    assert result.precision == "block"
    assert metres_between((result.lon, result.lat), town_lonlat(x, y)) < 0.05


def test_streets_that_do_not_cross_are_not_an_intersection(db: Session, town: Path) -> None:
    # both east-west: parallel, 100 m apart
    result = one(db, "Yungay esq. Unión")
    assert not result.placed
    assert result.candidates
    assert result.candidates[0]["precision"] == "street"


def test_kilometres_are_measured_along_the_road_from_the_town(db: Session, town: Path) -> None:
    geod = Geod(ellps="WGS84")
    lonlat = [town_lonlat(x, y) for x, y in ROAD_M]
    az, _, first = geod.inv(*lonlat[0], *lonlat[1])
    expected = geod.fwd(*lonlat[0], az, 3000)[:2]
    assert first > 3000  # km 3 lies on the first stretch
    result = one(db, "km 3 camino a Malalhue")
    assert result.placed
    assert result.matched == "Camino a Malalhue km 3"
    assert metres_between((result.lon, result.lat), expected) < 5
    beyond = one(db, "Camino a Malalhue km 90")  # the road is ~15 km long
    assert not beyond.placed


def test_named_places_and_streets_without_number(db: Session, town: Path) -> None:
    villa = one(db, "Villa Esperanza")
    assert (villa.placed, villa.precision, villa.matched) == (
        True,
        "approximate",
        "Villa Esperanza",
    )
    # the villa is the square x -300..-40, y 500..760
    x, y = ORIGIN.to_metres(villa.lon, villa.lat)
    assert -300 < x < -40
    assert 500 < y < 760
    street = one(db, "Baquedano s/n")
    assert (street.placed, street.precision, street.matched) == (True, "street", "Baquedano")


def test_a_pasaje_in_two_villas_needs_its_villa(db: Session, town: Path) -> None:
    alone = one(db, "Pasaje Los Laureles 12")
    assert not alone.placed  # two equally good places 1 km apart: queued, not guessed
    assert len({(c["lon"], c["lat"]) for c in alone.candidates[:2]}) == 2
    aromos = one(db, "Pje. Los Laureles 12, Villa Los Aromos")
    esfuerzo = one(db, "Pje. Los Laureles 12, Población El Esfuerzo")
    assert aromos.placed
    assert esfuerzo.placed
    ax, _ = ORIGIN.to_metres(aromos.lon, aromos.lat)
    ex, _ = ORIGIN.to_metres(esfuerzo.lon, esfuerzo.lat)
    assert 500 < ax < 760
    assert -760 < ex < -500


def test_typos_are_forgiven_and_unknown_streets_are_not_placed(db: Session, town: Path) -> None:
    assert one(db, "Unino 194").matched == "Unión 194"  # two letters swapped
    assert one(db, "Baqedano 345").placed
    for unknown in ("Los Mañíos 34", "Río Cautín 120", "Baquedano 5000", "asdf qwer"):
        assert not one(db, unknown).placed, unknown


def test_the_acceptance_score_is_a_setting(db: Session, town: Path) -> None:
    swapped = one(db, "Baqedano 345")
    assert swapped.placed
    assert swapped.score < 1
    assert not one(db, "Baqedano 345", min_score=swapped.score + 0.001).placed


def test_results_name_the_gazetteer_version(db: Session, town: Path) -> None:
    version = db.scalar(select(GazetteerVersion.id).where(GazetteerVersion.source_name == "calles"))
    assert one(db, "Baquedano 345").version_id == version


# --- loading: idempotent, versioned, validated --------------------------------------------


def test_reloading_the_same_file_changes_nothing(db: Session, tmp_path: Path) -> None:
    first = load_town(db, tmp_path)
    again = load_town(db, tmp_path)
    assert [r.unchanged for r in again] == [True, True]
    assert [r.version for r in again] == [r.version for r in first]
    assert (
        db.scalar(select(func.count()).select_from(GazetteerStreet)) == first[0].counts["streets"]
    )


def test_a_changed_file_is_a_new_version_replacing_the_old_features(
    db: Session, tmp_path: Path
) -> None:
    streets, _ = write_town(tmp_path)
    old = load_gazetteer(
        db, read_gazetteer(streets), comuna=LANCO, source_name="calles", loaded_by="test"
    )
    doc = json.loads(streets.read_text())
    doc["features"] = doc["features"][:10]
    streets.write_text(json.dumps(doc))
    new = load_gazetteer(
        db, read_gazetteer(streets), comuna=LANCO, source_name="calles", loaded_by="test"
    )
    assert new.version != old.version
    assert not new.unchanged
    assert db.scalar(select(func.count()).select_from(GazetteerSegment)) == 10
    current = db.execute(select(GazetteerVersion.id, GazetteerVersion.current)).all()
    assert sorted(current) == [(old.version, False), (new.version, True)]
    audit = db.scalar(text("SELECT count(*) FROM audit_event WHERE action = 'gazetteer.load'"))
    assert audit == 2


def _bad_streets(tmp_path: Path) -> Path:
    streets, _ = write_town(tmp_path)
    doc = json.loads(streets.read_text())
    doc["features"][0]["properties"]["nombre"] = None
    doc["features"][1]["properties"]["izq_desde"] = "doce"
    doc["features"][2]["properties"]["der_hasta"] = None
    streets.write_text(json.dumps(doc))
    return streets


def test_bad_features_are_each_reported(tmp_path: Path) -> None:
    with pytest.raises(GazetteerFileError) as caught:
        read_gazetteer(_bad_streets(tmp_path))
    found = {(p["index"], p["field"]) for p in caught.value.problems}
    assert found == {(0, "nombre"), (1, "izq_desde"), (2, "rango")}


def test_features_outside_the_comuna_are_refused_and_nothing_is_written(
    db: Session, tmp_path: Path
) -> None:
    streets, _ = write_town(tmp_path)
    doc = json.loads(streets.read_text())
    doc["features"][5]["geometry"]["coordinates"] = [[-70.65, -33.45], [-70.64, -33.45]]
    streets.write_text(json.dumps(doc))
    with pytest.raises(InvalidInput) as caught:
        load_gazetteer(
            db, read_gazetteer(streets), comuna=LANCO, source_name="calles", loaded_by="test"
        )
    assert [(e["index"], e["field"]) for e in caught.value.errors] == [(5, "geometry")]
    assert db.scalar(select(func.count()).select_from(GazetteerVersion)) == 0


# --- OpenStreetMap ------------------------------------------------------------------------


def write_osm(path: Path) -> None:
    """Two named streets crossing at (0, 0), an unnamed track, an address node and a hamlet."""
    nodes = {1: (-200, 0), 2: (0, 0), 3: (200, 0), 4: (0, -200), 5: (0, 200), 6: (300, 300)}
    with osmium.SimpleWriter(str(path)) as writer:
        for nid, (x, y) in nodes.items():
            writer.add_node(osmium.osm.mutable.Node(id=nid, location=town_lonlat(x, y)))
        writer.add_node(
            osmium.osm.mutable.Node(
                id=7,
                location=town_lonlat(50, 12),
                tags={"addr:street": "Calle Baquedano", "addr:housenumber": "120"},
            )
        )
        writer.add_node(
            osmium.osm.mutable.Node(
                id=8, location=town_lonlat(1500, -1500), tags={"place": "hamlet", "name": "Purulón"}
            )
        )
        writer.add_way(
            osmium.osm.mutable.Way(
                id=10, nodes=[1, 2, 3], tags={"highway": "residential", "name": "Calle Baquedano"}
            )
        )
        writer.add_way(
            osmium.osm.mutable.Way(
                id=11, nodes=[4, 2, 5], tags={"highway": "primary", "name": "Yungay"}
            )
        )
        writer.add_way(osmium.osm.mutable.Way(id=12, nodes=[3, 6], tags={"highway": "track"}))


def test_an_osm_extract_loads_and_geocodes(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "lanco.osm.pbf"
    write_osm(path)
    content = read_gazetteer(path)
    assert (len(content.streets), len(content.addresses), len(content.places)) == (2, 1, 1)
    report = load_gazetteer(db, content, comuna=LANCO, source_name="osm", loaded_by="test")
    assert report.counts["intersections"] == 1
    exact = one(db, "Baquedano 120")
    assert exact.precision == "exact"
    assert metres_between((exact.lon, exact.lat), town_lonlat(50, 12)) < 0.01
    corner = one(db, "Baquedano esq. Yungay")
    assert metres_between((corner.lon, corner.lat), town_lonlat(0, 0)) < 0.01
    # no house-number ranges in OSM: another number is placed on the street, as a street
    other = one(db, "Baquedano 455")
    assert other.precision == "street"
    hamlet = one(db, "Sector Purulón")
    assert hamlet.precision == "approximate"


def test_a_file_that_is_not_osm_is_a_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "roto.osm.pbf"
    path.write_bytes(b"esto no es un pbf")
    with pytest.raises(GazetteerFileError) as caught:
        read_gazetteer(path)
    assert caught.value.problems[0]["field"] == "file"


# --- the API ------------------------------------------------------------------------------


def test_geocode_and_reverse_over_http(
    client: TestClient, keys: Keys, town: Path, openapi: dict[str, Any]
) -> None:
    response = client.get(
        "/api/v1/geocode",
        params={"q": "Pje. Los Cisnes 12, Villa Los Aromos"},
        headers=keys.h("unit"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert_matches_schema(openapi, "/api/v1/geocode", "GET", response)
    assert body["placed"]
    assert body["matched"] == "Pasaje Los Cisnes 12"
    lon, lat = town_lonlat(-300 - 10, -200 + 100 * 44 / 98)
    back = client.get("/api/v1/reverse", params={"lon": lon, "lat": lat}, headers=keys.h("planner"))
    assert back.status_code == 200
    assert back.json() | {"distance_m": None} == {
        "lon": lon,
        "lat": lat,
        "street": "Baquedano",
        "number": 345,
        "side": "left",
        "distance_m": None,
        "place": None,
    }
    far = client.get("/api/v1/reverse", params={"lon": -72.6, "lat": -39.6}, headers=keys.h("unit"))
    assert far.json()["street"] is None


@pytest.mark.usefixtures("town")
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 301}, "q"),
        ({"q": "Baquedano 345", "comuna": "99999"}, "comuna"),
    ],
)
def test_bad_geocode_queries_are_422(
    client: TestClient, keys: Keys, params: dict[str, str], field: str
) -> None:
    body = assert_problem(
        client.get("/api/v1/geocode", params=params, headers=keys.h("police")), 422
    )
    assert field in [e["field"] for e in body["errors"]]


def test_bad_reverse_queries_are_422(client: TestClient, keys: Keys) -> None:
    for params in ({"lon": 200, "lat": 0}, {"lon": "nan", "lat": 0}, {"lat": -39}):
        assert_problem(client.get("/api/v1/reverse", params=params, headers=keys.h("unit")), 422)
    assert_problem(client.get("/api/v1/reverse", params={"lon": 0, "lat": 0}), 401)


def test_upload_a_gazetteer_and_bad_uploads(
    client: TestClient, db: Session, keys: Keys, tmp_path: Path
) -> None:
    streets, _ = write_town(tmp_path)
    url = "/api/v1/gazetteer"
    params = {"comuna": LANCO, "format": "geojson", "source": "calles"}
    assert_problem(
        client.post(url, params=params, content=streets.read_bytes(), headers=keys.h("planner")),
        403,
    )
    bad = _bad_streets(tmp_path)
    body = assert_problem(
        client.post(url, params=params, content=bad.read_bytes(), headers=keys.h("admin")),
        422,
        "nomenclator_invalido",
    )
    assert len(body["errors"]) == 3
    garbage = client.post(url, params=params, content=b"{no es json", headers=keys.h("admin"))
    assert_problem(garbage, 422)
    assert db.scalar(select(func.count()).select_from(GazetteerVersion)) == 0
    streets, _ = write_town(tmp_path)
    ok = client.post(url, params=params, content=streets.read_bytes(), headers=keys.h("admin"))
    assert ok.status_code == 200, ok.text
    assert ok.json()["counts"]["segments"] == 151
    again = client.post(url, params=params, content=streets.read_bytes(), headers=keys.h("admin"))
    assert again.json()["unchanged"] is True
