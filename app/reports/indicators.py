"""Plan indicators Vigía computes from its own data, by `indicator_key` (see the plan file).

Each function answers for a period of whole months with the data as it stood at `as_of`;
None means "no data to compute it from" (shown as "sin datos", never as zero).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Integer, and_, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from app.categories.groups import DRUG_TRAFFICKING_CODES
from app.models import (
    Complaint,
    CrimeCategory,
    GeneratedReport,
    InterventionProject,
    LocationPrecision,
    ProjectStatus,
    ReportKind,
    ReportStatus,
    ReportTransition,
    RiskFactorReport,
    RiskFactorType,
)
from app.models.ranking import RankingSnapshot
from app.reports.data import status_at
from app.reports.period import Period
from app.risk_factors.lifecycle import OPEN_STATUSES

R = RiskFactorReport
T = RiskFactorType
RT = ReportTransition
POLICE = ("carabineros", "pdi")

Indicator = Callable[[Session, str, Period, datetime], float | None]
REGISTRY: dict[str, Indicator] = {}
# Indicators of one goal (its prevention activities): they also receive the goal's code.
GoalIndicator = Callable[[Session, str, str, Period, datetime], float | None]
GOAL_REGISTRY: dict[str, GoalIndicator] = {}


def indicator(key: str) -> Callable[[Indicator], Indicator]:
    def register(fn: Indicator) -> Indicator:
        REGISTRY[key] = fn
        return fn

    return register


def goal_indicator(key: str) -> Callable[[GoalIndicator], GoalIndicator]:
    def register(fn: GoalIndicator) -> GoalIndicator:
        GOAL_REGISTRY[key] = fn
        return fn

    return register


def share(part: int, total: int) -> float | None:
    return None if total == 0 else round(100.0 * part / total, 1)


@indicator("risk_factors_reported")
def risk_factors_reported(session: Session, comuna: str, period: Period, as_of: datetime) -> float:
    return float(
        session.scalar(
            select(func.count()).where(
                R.comuna_code == comuna,
                R.institution.in_(POLICE),
                R.received_at >= period.start,
                R.received_at < min(period.end, as_of),
            )
        )
        or 0
    )


def _first(status: ReportStatus, end: datetime) -> Subquery:
    return (
        select(RT.report_id, func.min(RT.at).label("at"))
        .where(RT.to_status == status, RT.at < end)
        .group_by(RT.report_id)
        .subquery()
    )


@indicator("risk_factors_resolved_in_time_share")
def resolved_in_time(
    session: Session, comuna: str, period: Period, as_of: datetime
) -> float | None:
    """Of the police-reported factors whose deadline fell in the period (and was not
    discarded or a duplicate by then), the share first resolved by the deadline.
    """
    end = min(period.end, as_of)
    resolved = _first(ReportStatus.RESUELTO, end)
    status = status_at(end)
    due = R.received_at + func.make_interval(0, 0, 0, T.expected_days)
    on_time = cast(and_(resolved.c.at.is_not(None), resolved.c.at <= due), Integer)
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(on_time), 0))
        .select_from(R)
        .join(T, T.id == R.type_id)
        .outerjoin(resolved, resolved.c.report_id == R.id)
        .outerjoin(status, status.c.report_id == R.id)
        .where(
            R.comuna_code == comuna,
            R.institution.in_(POLICE),
            due >= period.start,
            due < end,
            or_(
                status.c.status.is_(None),
                status.c.status.not_in([ReportStatus.DESCARTADO, ReportStatus.DUPLICADO]),
            ),
        )
    ).one()
    return share(int(row[1]), int(row[0]))


@indicator("risk_factors_routed_share")
def routedshare(session: Session, comuna: str, period: Period, as_of: datetime) -> float | None:
    """Of the factors validated in the period, the share routed (derivado) by its end."""
    end = min(period.end, as_of)
    validated = _first(ReportStatus.VALIDADO, end)
    routed = _first(ReportStatus.DERIVADO, end)
    row = session.execute(
        select(func.count(), func.count(routed.c.report_id))
        .select_from(R)
        .join(validated, validated.c.report_id == R.id)
        .outerjoin(routed, routed.c.report_id == R.id)
        .where(R.comuna_code == comuna, validated.c.at >= period.start)
    ).one()
    return share(int(row[1]), int(row[0]))


@indicator("risk_factors_median_days")
def median_days(session: Session, comuna: str, period: Period, as_of: datetime) -> float | None:
    """Median days from reception to first resolution, for factors resolved in the period."""
    end = min(period.end, as_of)
    resolved = _first(ReportStatus.RESUELTO, end)
    days = func.extract("epoch", resolved.c.at - R.received_at) / 86400.0
    value = session.scalar(
        select(func.percentile_cont(0.5).within_group(days))
        .select_from(R)
        .join(resolved, resolved.c.report_id == R.id)
        .where(R.comuna_code == comuna, resolved.c.at >= period.start)
    )
    return None if value is None else round(float(value), 1)


@indicator("risk_factors_overdue_at_end")
def overdue_at_end(session: Session, comuna: str, period: Period, as_of: datetime) -> float:
    end = min(period.end, as_of)
    status = status_at(end)
    current = func.coalesce(status.c.status, ReportStatus.REPORTADO)
    due = R.received_at + func.make_interval(0, 0, 0, T.expected_days)
    return float(
        session.scalar(
            select(func.count())
            .select_from(R)
            .join(T, T.id == R.type_id)
            .outerjoin(status, status.c.report_id == R.id)
            .where(
                R.comuna_code == comuna,
                R.received_at < end,
                current.in_(OPEN_STATUSES),
                due < end,
            )
        )
        or 0
    )


@indicator("dmcs_georeferenced_share")
def dmcs_georeferenced(
    session: Session, comuna: str, period: Period, as_of: datetime
) -> float | None:
    """DMCS and drug-trafficking complaints placed at block level or better and inside a
    barrio of the comuna, over all of them. A rural complaint with a good point counts: the
    rural remainder is a barrio without micro-barrios, so requiring a micro-barrio (as this
    did before) capped the share by design. Drug trafficking is the ranking's definition
    (app/categories/groups.py, which app/scoring/inputs.py imports: 40101-40103).
    """
    placed = cast(
        and_(
            Complaint.location_precision != LocationPrecision.APPROXIMATE,
            Complaint.barrio_id.is_not(None),
        ),
        Integer,
    )
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(placed), 0))
        .select_from(Complaint)
        .join(CrimeCategory, CrimeCategory.code == Complaint.category_code)
        .where(
            Complaint.comuna_code == comuna,
            Complaint.occurred_at >= period.start,
            Complaint.occurred_at < period.end,
            Complaint.received_at <= as_of,
            or_(
                CrimeCategory.dmcs.is_(True),
                Complaint.category_code.in_(DRUG_TRAFFICKING_CODES),
            ),
        )
    ).one()
    return share(int(row[1]), int(row[0]))


def _generated_periods(session: Session, comuna: str, kind: ReportKind, period: Period) -> int:
    """Distinct periods (AAAA-MM, or AAAA) within `period` with a generated report."""
    keys = session.scalars(
        select(GeneratedReport.period)
        .where(GeneratedReport.comuna_code == comuna, GeneratedReport.kind == kind)
        .distinct()
    )
    first, last = period.first.key, period.last.key
    return sum(1 for key in keys if first[: len(key)] <= key <= last[: len(key)])


@indicator("bulletin_months")
def bulletin_months(session: Session, comuna: str, period: Period, as_of: datetime) -> float:
    return float(_generated_periods(session, comuna, ReportKind.BULLETIN, period))


@indicator("spd_reports")
def spd_reports(session: Session, comuna: str, period: Period, as_of: datetime) -> float:
    return float(_generated_periods(session, comuna, ReportKind.SPD, period))


@indicator("projects_completed")
def projects_completed(session: Session, comuna: str, period: Period, as_of: datetime) -> float:
    P = InterventionProject
    return float(
        session.scalar(
            select(func.count()).where(
                P.comuna_code == comuna,
                P.status == ProjectStatus.TERMINADO,
                P.end_date >= period.start.date(),
                P.end_date < period.end.date(),
            )
        )
        or 0
    )


@indicator("rankings_computed")
def rankings_computed(session: Session, comuna: str, period: Period, as_of: datetime) -> float:
    """Ranking snapshots computed (and stored, so they can be cited) in the period."""
    return float(
        session.scalar(
            select(func.count())
            .select_from(RankingSnapshot)
            .where(
                RankingSnapshot.comuna_code == comuna,
                RankingSnapshot.computed_at >= period.start,
                RankingSnapshot.computed_at < min(period.end, as_of),
            )
        )
        or 0
    )


# The indicators of the council and of prevention activities live with their records; they
# register here when this module is first imported (after REGISTRY exists).
import app.activities.indicators  # noqa: E402, F401
import app.council.indicators  # noqa: E402, F401
