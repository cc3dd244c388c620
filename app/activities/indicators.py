"""The plan's indicators computed from prevention activities: per goal (done, planned, places,
barrios, attendance) and the coverage of the ranking's critical barrios."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.activities.catalog import MINOR_BANDS
from app.models.activity import ActivityAttendance, ActivityStatus, PreventionActivity
from app.models.ranking import RankingSnapshot, RankingUnitResult
from app.reports.indicators import goal_indicator, indicator, share
from app.reports.period import Period
from app.timezone import chile_today

A = PreventionActivity
AT = ActivityAttendance


def span(period: Period, as_of: datetime) -> tuple[date, date]:
    """First and last day of the period, the last capped at the data cutoff's date."""
    return period.start.date(), min(period.end.date() - timedelta(days=1), chile_today(as_of))


@dataclass(frozen=True)
class GoalFigures:
    goal: str
    planned: int
    done: int
    places: int
    barrios: int
    attendance: int
    attendance_minors: int


def goal_figures(
    session: Session, comuna: str, goal: str | None, period: Period, as_of: datetime
) -> list[GoalFigures]:
    """Per goal: activities planned (programadas or realizadas dated in the period; the
    suspended ones are neither), done, distinct places and barrios, and attendance of the
    done ones (all, and 0-17 years)."""
    first, last = span(period, as_of)
    done = A.status == ActivityStatus.REALIZADA
    minors = func.coalesce(
        select(func.sum(AT.count))
        .where(AT.activity_id == A.id, AT.age_band.in_(MINOR_BANDS))
        .scalar_subquery(),
        0,
    )
    people = func.coalesce(
        select(func.sum(AT.count)).where(AT.activity_id == A.id).scalar_subquery(), 0
    )
    stmt = (
        select(
            A.goal_code,
            func.count().filter(A.status != ActivityStatus.SUSPENDIDA),
            func.count().filter(done),
            func.count(func.distinct(func.lower(func.trim(A.place)))).filter(done),
            func.count(func.distinct(A.barrio_id)).filter(done),
            func.coalesce(func.sum(people).filter(done), 0),
            func.coalesce(func.sum(minors).filter(done), 0),
        )
        .where(A.comuna_code == comuna, A.held_on >= first, A.held_on <= last)
        .group_by(A.goal_code)
        .order_by(A.goal_code)
    )
    if goal is not None:
        stmt = stmt.where(A.goal_code == goal)
    return [GoalFigures(*(r[0], *(int(v) for v in r[1:]))) for r in session.execute(stmt)]


def _one(session: Session, comuna: str, goal: str, period: Period, as_of: datetime) -> GoalFigures:
    found = goal_figures(session, comuna, goal, period, as_of)
    return found[0] if found else GoalFigures(goal, 0, 0, 0, 0, 0, 0)


@goal_indicator("activities_done")
def done(session: Session, comuna: str, goal: str, period: Period, as_of: datetime) -> float:
    return float(_one(session, comuna, goal, period, as_of).done)


@goal_indicator("activities_done_share")
def done_share(
    session: Session, comuna: str, goal: str, period: Period, as_of: datetime
) -> float | None:
    f = _one(session, comuna, goal, period, as_of)
    return share(f.done, f.planned)


@goal_indicator("activities_places")
def places(session: Session, comuna: str, goal: str, period: Period, as_of: datetime) -> float:
    return float(_one(session, comuna, goal, period, as_of).places)


@goal_indicator("activities_barrios")
def barrios(session: Session, comuna: str, goal: str, period: Period, as_of: datetime) -> float:
    return float(_one(session, comuna, goal, period, as_of).barrios)


@goal_indicator("activities_attendance")
def attendance(session: Session, comuna: str, goal: str, period: Period, as_of: datetime) -> float:
    return float(_one(session, comuna, goal, period, as_of).attendance)


@goal_indicator("activities_minors_attendance")
def minors_attendance(
    session: Session, comuna: str, goal: str, period: Period, as_of: datetime
) -> float:
    return float(_one(session, comuna, goal, period, as_of).attendance_minors)


def critical_barrios(session: Session, comuna: str, as_of: datetime) -> dict[int, str]:
    """The barrios of the top class in the latest barrio ranking computed by `as_of`
    (id -> code); empty without a ranking."""
    # the ranking's own class names (its module loads mapclassify: only when asked)
    from app.scoring.composite import CLASSES  # noqa: PLC0415

    latest = session.scalar(
        select(RankingSnapshot.id)
        .where(
            RankingSnapshot.comuna_code == comuna,
            RankingSnapshot.level == "barrio",
            RankingSnapshot.computed_at <= as_of,
        )
        .order_by(RankingSnapshot.computed_at.desc(), RankingSnapshot.id)
        .limit(1)
    )
    if latest is None:
        return {}
    rows = session.execute(
        select(RankingUnitResult.unit_id, RankingUnitResult.unit_code).where(
            RankingUnitResult.snapshot_id == latest,
            RankingUnitResult.class_ == CLASSES[-1],
            RankingUnitResult.unit_id.is_not(None),
        )
    )
    return {unit_id: code for unit_id, code in rows if unit_id is not None}


def reached_barrios(session: Session, comuna: str, period: Period, as_of: datetime) -> set[int]:
    first, last = span(period, as_of)
    return set(
        session.scalars(
            select(A.barrio_id).where(
                A.comuna_code == comuna,
                A.status == ActivityStatus.REALIZADA,
                A.held_on >= first,
                A.held_on <= last,
                A.barrio_id.is_not(None),
            )
        )
    )


@indicator("critical_barrio_coverage")
def critical_coverage(
    session: Session, comuna: str, period: Period, as_of: datetime
) -> float | None:
    """Of the critical barrios of the latest ranking, the share with at least one prevention
    activity done in the period ("¿llegan las actividades a los barrios críticos?")."""
    critical = critical_barrios(session, comuna, as_of)
    reached = reached_barrios(session, comuna, period, as_of)
    return share(len(critical.keys() & reached), len(critical))
