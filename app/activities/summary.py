"""The activity figures the API, the dashboard and the reports show, from app.activities
.indicators (one computation)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities.catalog import ATTENDANCE_COLUMNS
from app.activities.indicators import (
    critical_barrios,
    goal_figures,
    reached_barrios,
    span,
)
from app.activities.schemas import ActivityIndicatorsRead, GoalActivities
from app.models.activity import ActivityAttendance, ActivityStatus, PreventionActivity
from app.reports.indicators import share
from app.reports.period import Period
from app.territory.service import resolve_comuna


def attendance_by_column(
    session: Session, comuna: str, period: Period, as_of: datetime
) -> dict[str, int]:
    first, last = span(period, as_of)
    totals: dict[str, int] = defaultdict(int)
    rows = session.execute(
        select(ActivityAttendance.sex, ActivityAttendance.age_band, ActivityAttendance.count)
        .join(PreventionActivity, PreventionActivity.id == ActivityAttendance.activity_id)
        .where(
            PreventionActivity.comuna_code == comuna,
            PreventionActivity.status == ActivityStatus.REALIZADA,
            PreventionActivity.held_on >= first,
            PreventionActivity.held_on <= last,
        )
    )
    for sex, band, count in rows:
        totals[f"{sex.value}_{band.value}"] += count
    return {c: totals.get(c, 0) for c in ATTENDANCE_COLUMNS}


def indicators_read(
    session: Session, comuna: str | None, period: Period, as_of: datetime | None = None
) -> ActivityIndicatorsRead:
    code = resolve_comuna(session, comuna).code
    as_of = as_of or datetime.now(UTC)
    critical = critical_barrios(session, code, as_of)
    reached = reached_barrios(session, code, period, as_of)
    return ActivityIndicatorsRead(
        comuna=code,
        period=period.key,
        goals=[
            GoalActivities(
                goal=f.goal,
                planned=f.planned,
                done=f.done,
                done_share=share(f.done, f.planned),
                attendance=f.attendance,
                attendance_minors=f.attendance_minors,
            )
            for f in goal_figures(session, code, None, period, as_of)
        ],
        attendance_by_column=attendance_by_column(session, code, period, as_of),
        critical_barrios=sorted(critical.values()),
        critical_reached=sorted(critical[i] for i in critical.keys() & reached),
        critical_coverage=share(len(critical.keys() & reached), len(critical)),
    )
