"""Loading a territory file: validation before any write, idempotent upserts."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.errors import InvalidInput
from app.models import Barrio, Comuna, MicroBarrio
from app.settings import TerritorySettings
from app.territory import service as territory
from tests.conftest import FIXTURES, LANCO_FILE, load_json

SMALL = FIXTURES / "territory_small.geojson"
SETTINGS = TerritorySettings()


@pytest.fixture
def small() -> dict[str, Any]:
    return load_json(SMALL)


def counts(db: Session) -> tuple[int, int, int]:
    return (
        db.scalar(select(func.count()).select_from(Comuna)) or 0,
        db.scalar(select(func.count()).select_from(Barrio)) or 0,
        db.scalar(select(func.count()).select_from(MicroBarrio)) or 0,
    )


def load(db: Session, document: Any) -> territory.LoadReport:
    return territory.load_territory(db, territory.parse_territory(document, SETTINGS))


def rejected(db: Session, document: Any) -> list[dict[str, Any]]:
    before = counts(db)
    with pytest.raises(InvalidInput) as info:
        load(db, document)
    assert counts(db) == before, "a rejected file must write nothing"
    return list(info.value.errors)


def feature(doc: dict[str, Any], code: str) -> dict[str, Any]:
    return next(f for f in doc["features"] if f["properties"]["code"] == code)


def test_good_file_loads_every_level(db: Session, small: dict[str, Any]) -> None:
    before = counts(db)
    report = load(db, small)
    assert counts(db) == (before[0] + 1, before[1] + 2, before[2] + 4)
    assert report.levels["barrio"].inserted == ["P01", "P02"]
    micro = db.execute(
        select(MicroBarrio.code, Barrio.code, MicroBarrio.comuna_code)
        .join(Barrio, Barrio.id == MicroBarrio.barrio_id)
        .where(MicroBarrio.comuna_code == "99901")
        .order_by(MicroBarrio.code)
    ).all()
    assert [tuple(r) for r in micro] == [
        ("P01-01", "P01", "99901"),
        ("P01-02", "P01", "99901"),
        ("P02-01", "P02", "99901"),
        ("P02-02", "P02", "99901"),
    ]


def test_loading_lanco_again_changes_nothing(db: Session) -> None:
    stamps = db.execute(select(Barrio.code, Barrio.updated_at).order_by(Barrio.code)).all()
    report = load(db, load_json(LANCO_FILE))
    assert not report.changed
    assert len(report.levels["micro_barrio"].unchanged) == 19
    assert db.execute(select(Barrio.code, Barrio.updated_at).order_by(Barrio.code)).all() == stamps


def test_loading_twice_is_a_no_op(db: Session, small: dict[str, Any]) -> None:
    load(db, small)
    before = counts(db)
    report = load(db, small)
    assert not report.changed
    assert report.levels["micro_barrio"].unchanged == ["P01-01", "P01-02", "P02-01", "P02-02"]
    assert counts(db) == before


def test_revised_file_updates_in_place(db: Session, small: dict[str, Any]) -> None:
    load(db, small)
    ids = dict(
        db.execute(select(Barrio.code, Barrio.id).where(Barrio.comuna_code == "99901")).all()
    )
    revised = copy.deepcopy(small)
    feature(revised, "P02")["properties"]["name"] = "Oriente (revisado)"
    feature(revised, "P02")["properties"]["population"] = 2100
    report = load(db, revised)
    assert report.levels["barrio"].updated == ["P02"]
    assert report.levels["barrio"].unchanged == ["P01"]
    row = db.execute(
        select(Barrio.id, Barrio.name, Barrio.population).where(Barrio.code == "P02")
    ).one()
    assert tuple(row) == (ids["P02"], "Oriente (revisado)", 2100)


def test_invalid_polygon_is_named(db: Session, small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    # a bow-tie: the ring crosses itself
    feature(bad, "P01-02")["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[-71.0, -29.99], [-70.99, -29.98], [-70.99, -29.99], [-71.0, -29.98], [-71.0, -29.99]]
        ],
    }
    errors = rejected(db, bad)
    assert errors[0]["index"] == 4
    assert errors[0]["code"] == "P01-02"
    assert errors[0]["field"] == "geometry"
    assert "Self-intersection" in errors[0]["reason"]


def test_overlapping_micro_barrios_are_rejected(db: Session, small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    # P01-02 grows south over half of P01-01
    feature(bad, "P01-02")["geometry"]["coordinates"] = [
        [[[-71.0, -29.995], [-70.99, -29.995], [-70.99, -29.98], [-71.0, -29.98], [-71.0, -29.995]]]
    ]
    errors = rejected(db, bad)
    assert any(
        e["code"] == "P01-02" and "se superpone" in e["reason"] and "P01-01" in e["reason"]
        for e in errors
    ), errors


def test_feature_outside_the_comuna_is_rejected(db: Session, small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    feature(bad, "P02")["geometry"]["coordinates"] = [
        [[[-70.99, -30.0], [-70.97, -30.0], [-70.97, -29.98], [-70.99, -29.98], [-70.99, -30.0]]]
    ]
    errors = rejected(db, bad)
    outside = [e for e in errors if e["code"] == "P02"]
    assert outside
    assert "fuera de su comuna 99901" in outside[0]["reason"]


def test_micro_barrio_outside_its_barrio_is_rejected(db: Session, small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    feature(bad, "P01-01")["properties"]["parent"] = "P02"
    errors = rejected(db, bad)
    assert any(e["code"] == "P01-01" and "fuera de su barrio P02" in e["reason"] for e in errors)


@pytest.mark.parametrize("where", ["collection", "feature", "geometry"])
def test_crs_member_is_rejected(db: Session, small: dict[str, Any], where: str) -> None:
    bad = copy.deepcopy(small)
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}}
    target = {
        "collection": bad,
        "feature": bad["features"][1],
        "geometry": bad["features"][1]["geometry"],
    }
    target[where]["crs"] = crs
    errors = rejected(db, bad)
    assert any("crs" in e["reason"] for e in errors), errors


def test_unknown_level_and_every_bad_feature_are_reported(
    db: Session, small: dict[str, Any]
) -> None:
    bad = copy.deepcopy(small)
    bad["features"][2]["properties"]["level"] = "manzana"
    bad["features"][5]["geometry"]["coordinates"][0][0][0] = [-70.99, -29.99, 12.0]
    errors = rejected(db, bad)
    by_index = {e["index"]: e for e in errors if "index" in e}
    assert by_index[2]["field"] == "level"
    assert "manzana" in by_index[2]["reason"]
    assert by_index[5]["field"] == "geometry"
    assert "2-D" in by_index[5]["reason"]


def test_out_of_range_coordinates_are_rejected(db: Session, small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    ring = bad["features"][3]["geometry"]["coordinates"][0][0]
    ring[1] = [-29.99, -190.0]
    errors = rejected(db, bad)
    assert any(e["index"] == 3 and "fuera del rango" in e["reason"] for e in errors)


def test_missing_parent_is_rejected(db: Session, small: dict[str, Any]) -> None:
    bad = copy.deepcopy(small)
    feature(bad, "P02-01")["properties"]["parent"] = "P99"
    errors = rejected(db, bad)
    assert any(e["code"] == "P02-01" and e["field"] == "parent" for e in errors)


def test_cli_reports_bad_features_and_exits_non_zero(tmp_path: Any, small: dict[str, Any]) -> None:
    import orjson

    bad = copy.deepcopy(small)
    bad["crs"] = {"type": "name", "properties": {"name": "EPSG:4326"}}
    feature(bad, "P02")["properties"]["level"] = "sector"
    path = tmp_path / "malo.geojson"
    path.write_bytes(orjson.dumps(bad))
    result = CliRunner().invoke(cli, ["territory", "load", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert "crs" in result.output
    assert "feature 2, P02" in result.output
    assert "sector" in result.output


def test_cli_dry_run_accepts_lanco() -> None:
    result = CliRunner().invoke(cli, ["territory", "load", str(LANCO_FILE), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "5 barrios, 19 micro-barrios" in result.output
