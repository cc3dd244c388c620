"""Prevention-activity spreadsheets (CSV and XLSX) and a stored barrio ranking, for tests."""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Barrio
from app.models.ranking import RankingSnapshot, RankingUnitResult

HEADER = (
    "ref",
    "held_on",
    "kind",
    "status",
    "place",
    "barrio",
    "target_group",
    "institution",
    "mujeres_0_13",
    "hombres_0_13",
    "mujeres_30_59",
)


def activity_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "ref": "ACT-1",
        "held_on": "2025-04-03",
        "kind": "charla_delitos_sexuales",
        "status": "realizada",
        "place": "Escuela Rural Malalhue",
        "barrio": "B03001",
        "target_group": "escolares",
        "institution": "PDI",
        "mujeres_0_13": 12,
        "hombres_0_13": 10,
        "mujeres_30_59": 2,
    }
    row.update(overrides)
    return row


def csv_bytes(rows: Sequence[Mapping[str, Any]], header: Sequence[str] = HEADER) -> bytes:
    lines = [",".join(header)]
    lines += [",".join("" if r.get(c) is None else str(r[c]) for c in header) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def xlsx_bytes(rows: Sequence[Mapping[str, Any]], header: Sequence[str] = HEADER) -> bytes:
    """A workbook as a municipality keeps it: real dates and numbers in the cells."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for r in rows:
        cells: list[Any] = []
        for c in header:
            value = r.get(c)
            if c == "held_on" and isinstance(value, str):
                value = date.fromisoformat(value)
            cells.append(value)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def make_barrio_ranking(
    db: Session, classes: Mapping[str, str], *, computed_at: datetime | None = None
) -> uuid.UUID:
    """A stored barrio ranking of Lanco with the given class per barrio code."""
    ids = dict(db.execute(select(Barrio.code, Barrio.id)).all())
    snapshot = RankingSnapshot(
        comuna_code="14103",
        level="barrio",
        profile_name="vigia-barrio",
        profile_version=1,
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        input_fingerprint="0" * 64,
        result_fingerprint="0" * 64,
        computed_at=computed_at or datetime(2025, 1, 5, tzinfo=UTC),
        computed_by="tests",
        inputs={},
        meta={},
    )
    db.add(snapshot)
    db.flush()
    for rank, (code, klass) in enumerate(classes.items(), start=1):
        db.add(
            RankingUnitResult(
                snapshot_id=snapshot.id,
                unit_code=code,
                unit_id=ids[code],
                unit_name=code,
                rank=rank,
                score=1.0 / rank,
                class_=klass,
                population=1000,
                population_estimated=False,
                raw={},
                normalised={},
                contributions={},
                top_variables=[],
                diagnostics={},
            )
        )
    db.flush()
    return snapshot.id
