"""The synthetic town's gazetteer (app/demo/town.py) loaded into the test database."""

from __future__ import annotations

import json
import math
from pathlib import Path

from sqlalchemy.orm import Session

from app.demo.town import ORIGIN, build_town, place_features, street_features
from app.geocoding.loader import GazetteerLoadReport, load_gazetteer
from app.geocoding.reader import read_gazetteer

LANCO = "14103"


def write_town(directory: Path) -> tuple[Path, Path]:
    town = build_town()
    streets, places = directory / "calles.geojson", directory / "lugares.geojson"
    streets.write_text(json.dumps(street_features(town)), encoding="utf-8")
    places.write_text(json.dumps(place_features(town)), encoding="utf-8")
    return streets, places


def load_town(session: Session, directory: Path) -> list[GazetteerLoadReport]:
    return [
        load_gazetteer(
            session, read_gazetteer(path), comuna=LANCO, source_name=path.stem, loaded_by="test"
        )
        for path in write_town(directory)
    ]


def town_lonlat(x: float, y: float) -> tuple[float, float]:
    """Town metres to lon/lat, written out (the local equirectangular projection)."""
    kx = 111_320.0 * math.cos(math.radians(ORIGIN.lat0))
    return ORIGIN.lon0 + x / kx, ORIGIN.lat0 + y / 111_320.0


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    kx = 111_320.0 * math.cos(math.radians(a[1]))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * 111_320.0)
