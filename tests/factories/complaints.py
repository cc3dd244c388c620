"""Shared bits of the complaint tests: the fixture files and counting what is stored."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Complaint
from tests.conftest import FIXTURES

OK_CSV = FIXTURES / "complaints_ok.csv"
OK_GEOJSON = FIXTURES / "complaints_ok.geojson"
HEADER = "external_ref,source,category,occurred_at,lon,lat,precision,address"
GOOD_ROW = "X-1,carabineros,556,2025-06-01T21:30:00,-72.775,-39.452,exact,"


def complaint_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Complaint)) or 0


def make_csv_body(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def make_complaint_json(external_ref: str, **overrides: object) -> dict[str, object]:
    """A valid JSON body for POST /api/v1/complaints (a carabineros robbery in Lanco)."""
    return {
        "external_ref": external_ref,
        "source": "carabineros",
        "category": "556",
        "occurred_at": "2025-06-01T21:30:00-04:00",
        "lon": -72.775,
        "lat": -39.452,
        "precision": "exact",
        **overrides,
    }
