"""The demo's council year (app/demo/council.py): made through the real services, so the
council and activity indicators, the SPD report and the pages have something real to show."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.council.seats import seats
from app.demo.council import RECORDED_BY, create_demo_council, demo_council_exists
from app.models import AuditEvent
from app.models.activity import PreventionActivity
from app.models.council import Agreement, AgreementStatus, CouncilSession, SessionAttendance
from app.timezone import chile_today

LAST = date(2026, 10, 1)


def _agreements(db: Session) -> list[Agreement]:
    return list(db.scalars(select(Agreement).order_by(Agreement.id)))


def test_a_year_of_monthly_sessions_with_every_seat_and_followed_up_agreements(
    db: Session,
) -> None:
    assert not demo_council_exists(db, "14103")
    made = create_demo_council(db, "14103", LAST, seed=7)

    held = list(db.scalars(select(CouncilSession).order_by(CouncilSession.held_on)))
    assert made.sessions == len(held) == 12
    assert [(s.held_on.year, s.held_on.month) for s in held][-1] == (2026, 10)
    assert len({(s.held_on.year, s.held_on.month) for s in held}) == 12  # one a month
    assert {s.recorded_by for s in held} == {RECORDED_BY}
    # every seat in every session, present or not, and a realistic, not perfect, attendance
    rows = list(db.scalars(select(SessionAttendance)))
    assert len(rows) == 12 * len(seats())
    share = sum(r.present for r in rows) / len(rows)
    assert 0.6 < share < 0.95, share

    agreements = _agreements(db)
    assert made.agreements == len(agreements) >= 12
    statuses = {a.status for a in agreements}
    assert AgreementStatus.CUMPLIDO in statuses
    assert AgreementStatus.PENDIENTE in statuses
    done = [a for a in agreements if a.status == AgreementStatus.CUMPLIDO]
    assert all(a.completed_on is not None for a in done)
    assert any(a.completed_on > a.due_on for a in done if a.completed_on)  # some late
    assert any(a.completed_on <= a.due_on for a in done if a.completed_on)  # most on time
    # the real services wrote the audit trail
    events = db.scalar(select(func.count()).where(AuditEvent.action == "council.session.create"))
    assert events == 12
    assert demo_council_exists(db, "14103")


def test_activities_follow_the_catalog_and_never_lie_in_the_future(db: Session) -> None:
    made = create_demo_council(db, "14103", chile_today(), seed=7)

    rows = list(db.scalars(select(PreventionActivity)))
    assert made.activities == len(rows) >= 24
    assert all(r.ref and r.ref.startswith("DEMO-14103-ACT-") for r in rows)
    assert all(r.held_on <= chile_today() for r in rows)
    assert min(r.held_on for r in rows) >= chile_today().replace(day=1) - timedelta(days=366)
    assert len({r.kind for r in rows}) >= 8
    # this month's session is only there if its day has come
    held = list(db.scalars(select(CouncilSession.held_on)))
    assert all(d <= chile_today() for d in held)


def test_the_same_seed_gives_the_same_year(db: Session) -> None:
    first = create_demo_council(db, "14103", LAST, seed=3)
    shape = [(a.text, a.due_on, a.status) for a in _agreements(db)]
    db.rollback()
    again = create_demo_council(db, "14103", LAST, seed=3)
    assert again == first
    assert [(a.text, a.due_on, a.status) for a in _agreements(db)] == shape
