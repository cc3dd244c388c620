"""The public cuenta pública: the internal annual report through the privacy rules.

Its count tables are read from the published cells of the year and of the previous one
(`public_stats.published_year`), the same suppressed cells /api/v1/public/stats and
/estadisticas show: a family row is the comuna's statistics cell of that family plus its
sensitive categories, a barrio row the year's non-sensitive cell of that public unit
(barrios under 1,000 residents merged into "otros"). So the report can never show a number
the statistics hide, nor the other way round, and the audit of app/privacy/linked_tables.py
covers it. The staff-only section is dropped; the report has no map and no points.
`public_data` is the report's numbers as data, for the privacy scanner.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Comuna, ReportKind
from app.privacy.linked_tables import ALL, general
from app.privacy.public_stats import published_year
from app.reports import data
from app.reports.period import Period
from app.reports.progress import PeriodRow, Progress, build_progress, public_version


def build_public_progress(
    session: Session, kind: ReportKind, comuna: str, period: Period, *, as_of: datetime
) -> Progress:
    place = session.get(Comuna, comuna)
    assert place is not None  # checked by territory.resolve_comuna
    year = period.first.year
    assert (period.first.month, period.last.month, period.last.year) == (1, 12, year)
    internal = build_progress(session, kind, comuna, period, as_of=as_of)
    now = published_year(session, place, year, as_of=as_of)
    before = published_year(session, place, year - 1, as_of=as_of)
    families = [
        PeriodRow(
            code,
            name,
            now.value(now.layout.report_row(code)),
            before.value(before.layout.report_row(code)),
        )
        for code, name in data.families(session)
    ]
    total = PeriodRow(
        None,
        "Total",
        now.value(now.layout.report_row(ALL)),
        before.value(before.layout.report_row(ALL)),
    )
    barrios = [
        PeriodRow(
            u.code,
            u.name,
            now.value(general(u.code, str(year), ALL)),
            before.value(general(u.code, str(year - 1), ALL)),
        )
        for u in now.units
    ]
    return public_version(internal, families=families, total=total, barrios=barrios)


def public_data(progress: Progress) -> dict[str, Any]:
    """The counts the report prints, keyed the way the privacy scanner reads them."""
    return {
        "comuna": progress.comuna,
        "year": progress.period.first.year,
        "audience": progress.audience,
        "families": [
            {"family": r.code, "name": r.name, "count": r.current, "previous_count": r.previous}
            for r in progress.families
        ],
        "total": progress.total.current,
        "previous_total": progress.total.previous,
        "barrios": [
            {"barrio": r.code, "name": r.name, "count": r.current, "previous_count": r.previous}
            for r in progress.barrios
        ],
        "responsible_units": [u.unit for u in progress.units],
        **_plan_data(progress),
    }


def _plan_data(progress: Progress) -> dict[str, Any]:
    """The council and activity figures the report prints (no text, places or barrios)."""
    found: dict[str, Any] = {}
    if progress.council is not None:
        c = progress.council
        found["council"] = {
            "sessions": [
                {
                    "held_on": s.held_on.isoformat(),
                    "kind": s.kind,
                    "present": s.present,
                    "quorum": s.quorum,
                }
                for s in c.sessions
            ],
            "attendance": [{"institution": i, "share": pct} for i, _, _, pct in c.attendance],
            "agreements": [
                {"held_on": a.due_on.isoformat(), "description": a.text} for a in c.agreements
            ],
            "agreements_due": c.agreements_due,
            "agreements_on_time": c.on_time,
        }
    if progress.activities is not None:
        a = progress.activities
        found["activities"] = {
            "goals": [
                {
                    "goal": g.code,
                    "planned": g.planned,
                    "done": g.done,
                    "attendance_total": g.attendance,
                }
                for g in a.goals
            ],
            "bands": [{"band": b, "women_total": w, "men_total": m} for b, w, m in a.bands],
            "activities": [
                {"held_on": x.held_on.isoformat(), "address": x.place, "barrio": x.barrio}
                for x in a.activities
            ],
            "barrios": [{"barrio": code} for code in a.critical],
            "critical_coverage": a.coverage,
        }
    return found
