"""The plan's Ámbito I indicators computed from the council registry (registered by key in
app/reports/indicators.py; the plan file names them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.council.queries import figures, share
from app.council.seats import seats
from app.models.council import CouncilMember
from app.reports.indicators import indicator
from app.reports.period import Period
from app.timezone import chile_today


@indicator("council_sessions")
def council_sessions(session: Session, comuna: str, period: Period, as_of: datetime) -> float:
    return float(len(figures(session, comuna, period, chile_today(as_of)).sessions))


@indicator("council_months_with_session_share")
def months_with_session(
    session: Session, comuna: str, period: Period, as_of: datetime
) -> float | None:
    """Of the months of the period begun by `as_of`, the share with at least one session
    (ordinary or extraordinary: the plan asks the council to meet at least once a month)."""
    f = figures(session, comuna, period, chile_today(as_of))
    return share(f.months_with_session, len(f.months))


@indicator("council_attendance_share")
def attendance_share(
    session: Session, comuna: str, period: Period, as_of: datetime
) -> float | None:
    f = figures(session, comuna, period, chile_today(as_of))
    return share(sum(p for _, p, _ in f.attendance), sum(n for _, _, n in f.attendance))


@indicator("council_agreements_on_time_share")
def agreements_on_time(
    session: Session, comuna: str, period: Period, as_of: datetime
) -> float | None:
    """Of the agreements due in the period (by `as_of`, not dropped), the share met by their
    due date."""
    f = figures(session, comuna, period, chile_today(as_of))
    return share(f.on_time, len(f.agreements_due))


@indicator("council_seats_filled")
def seats_filled(session: Session, comuna: str, period: Period, as_of: datetime) -> float:
    return float(
        session.scalar(
            select(func.count()).where(
                CouncilMember.comuna_code == comuna, CouncilMember.seat.in_(list(seats()))
            )
        )
        or 0
    )
