"""Complaint counts grouped by territory, month and category (staff statistics).

These are exact counts for staff; public statistics with suppression are another module.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.complaints.queries import ComplaintFilter, filtered
from app.identity.access import complaint_scope
from app.identity.caller import Caller
from app.models import Barrio, Complaint, MicroBarrio
from app.timezone import local_month


def _month() -> ColumnElement[Any]:
    # Months are calendar months in Chile, not in UTC: a case at 22:00 on 31 May (UTC-4)
    # belongs to May.
    return local_month(Complaint.occurred_at)


# The allow-list: a group_by name never reaches SQL other than through this mapping.
GROUPS: dict[str, Any] = {
    "barrio": lambda: Barrio.code,
    "micro_barrio": lambda: MicroBarrio.code,
    "month": _month,
    "category": lambda: Complaint.category_code,
}


def complaint_counts(
    session: Session, where: ComplaintFilter, group_by: list[str], caller: Caller
) -> list[dict[str, Any]]:
    """One row per combination that has complaints: the group values and `count`."""
    columns = [GROUPS[name]().label(name) for name in group_by]
    stmt = filtered(select(*columns, func.count().label("count")), where).where(
        complaint_scope(caller)
    )
    if columns:
        stmt = stmt.group_by(*columns).order_by(*[c.asc().nulls_last() for c in columns])
    return [dict(row._mapping) for row in session.execute(stmt)]


def counts_csv(group_by: list[str], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*group_by, "count"])
    for row in rows:
        writer.writerow([*("" if row[g] is None else row[g] for g in group_by), row["count"]])
    return buffer.getvalue()
