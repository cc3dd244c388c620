"""Importing activities from the spreadsheets municipalities keep (CSV or XLSX), row by row,
with the complaint import's readers and its all-or-nothing / skip-invalid rule
(app.complaints.files, app.complaints.ingest.settle).

Columns: the fields of `ActivityCreate` (`held_on,kind,place,target_group,institution`
required; `ref,goal,status,barrio` and the attendance counts `mujeres_0_13` ...
`hombres_60_mas` optional). Any other column (a list of names, say) refuses the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Literal

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.activities.catalog import ATTENDANCE_COLUMNS, SPANISH_COLUMNS
from app.activities.schemas import ActivityCreate
from app.activities.service import Checked, barrio_ids, check, existing_refs, insert_checked
from app.audit import trail as audit
from app.complaints.files import (
    Record,
    csv_records,
    problem,
    validation_problems,
    xlsx_records,
)
from app.complaints.ingest import ImportMode, ImportReport, settle
from app.errors import FieldProblem
from app.territory.service import resolve_comuna

REQUIRED = ("held_on", "kind", "place", "target_group", "institution")
OPTIONAL = ("ref", "goal", "status", "barrio", *ATTENDANCE_COLUMNS)
SheetFormat = Literal["csv", "xlsx"]
XLSX_MAGIC = b"PK\x03\x04"


def sniff_format(head: bytes, filename: str | None) -> SheetFormat:
    if head.startswith(XLSX_MAGIC) or (filename or "").lower().endswith(".xlsx"):
        return "xlsx"
    return "csv"


def import_activities(
    session: Session,
    stream: IO[bytes],
    *,
    fmt: SheetFormat,
    mode: ImportMode | str = ImportMode.ALL_OR_NOTHING,
    comuna: str | None = None,
    recorded_by: str,
) -> ImportReport:
    """Validate every row, then write all of them, the good ones, or nothing (flushes only)."""
    mode = ImportMode(mode)
    code = resolve_comuna(session, comuna).code
    records = (
        xlsx_records(stream, REQUIRED, OPTIONAL, SPANISH_COLUMNS)
        if fmt == "xlsx"
        else csv_records(stream, REQUIRED, OPTIONAL, SPANISH_COLUMNS)
    )
    report = ImportReport()
    good, problems = _check_rows(session, code, records, report)
    settle(report, problems, mode)
    bad_rows = {p.get("row") for p in problems}
    keep = [item for row, item in good if row not in bad_rows]
    insert_checked(session, code, keep, recorded_by=recorded_by)
    report.inserted = len(keep)
    audit.record(
        session,
        "activity.import",
        "prevention_activity",
        detail={"rows": report.rows, "inserted": report.inserted, "rejected": report.rejected},
    )
    return report


def _check_rows(
    session: Session, comuna: str, records: Iterator[Record], report: ImportReport
) -> tuple[list[tuple[int, Checked]], list[FieldProblem]]:
    barrios = barrio_ids(session, comuna)
    good: list[tuple[int, Checked]] = []
    problems: list[FieldProblem] = []
    first_row: dict[str, int] = {}
    for row, _index, values, row_problems in records:
        report.rows += 1
        problems.extend(row_problems)
        if values is None:
            continue
        try:
            data = ActivityCreate.model_validate(values, strict=False)  # file text
        except ValidationError as exc:
            problems.extend(validation_problems(exc, row, None))
            continue
        checked, found = check(data, barrios, row=row)
        problems.extend(found)
        if data.ref:
            if data.ref in first_row:
                reason = (
                    f"código repetido en el archivo: ya aparece en la fila {first_row[data.ref]}"
                )
                problems.append(problem(row, None, "ref", reason))
            first_row.setdefault(data.ref, row)
        if checked is not None:
            good.append((row, checked))
    stored = existing_refs(session, comuna, set(first_row))
    problems += [
        problem(row, None, "ref", f"la actividad {ref} ya fue registrada")
        for ref, row in first_row.items()
        if ref in stored
    ]
    problems.sort(key=lambda p: p.get("row", 0))
    return good, problems
