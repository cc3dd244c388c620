"""Reading the council registry: seats, sessions, agreements, a session's agenda, and the
figures the plan's Ámbito I indicators and reports are made of.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.council import schemas as s
from app.council.seats import quorum_needed, seats
from app.council.service import get_agreement, get_session
from app.models.council import (
    Agreement,
    AgreementFollowUp,
    AgreementStatus,
    CouncilMember,
    CouncilSession,
    SessionAttendance,
    SessionKind,
)
from app.reports.period import Month, Period
from app.territory.service import resolve_comuna
from app.timezone import chile_today

OPEN = (AgreementStatus.PENDIENTE, AgreementStatus.EN_CURSO)
AGENDA_HORIZON = timedelta(days=31)  # "due before the next monthly session"


def list_seats(session: Session, comuna: str | None) -> list[s.SeatRead]:
    code = resolve_comuna(session, comuna).code
    members = {
        m.seat: m
        for m in session.scalars(select(CouncilMember).where(CouncilMember.comuna_code == code))
    }
    return [
        s.SeatRead(
            seat=seat.code,
            label=seat.label,
            institution=members[seat.code].institution
            if seat.code in members
            else seat.institution,
            representative=members[seat.code].representative if seat.code in members else None,
        )
        for seat in seats().values()
    ]


def _agreement_reads(session: Session, agreements: list[Agreement]) -> list[s.AgreementRead]:
    ids = [a.id for a in agreements]
    notes: dict[int, list[s.FollowUpRead]] = defaultdict(list)
    for f in session.scalars(
        select(AgreementFollowUp)
        .where(AgreementFollowUp.agreement_id.in_(ids))
        .order_by(AgreementFollowUp.recorded_at, AgreementFollowUp.id)
    ):
        notes[f.agreement_id].append(
            s.FollowUpRead(
                session_id=f.session_id, note=f.note, status=f.status, recorded_by=f.recorded_by
            )
        )
    dates = dict(
        session.execute(
            select(CouncilSession.id, CouncilSession.held_on).where(
                CouncilSession.id.in_({a.session_id for a in agreements})
            )
        ).all()
    )
    today = chile_today()
    return [
        s.AgreementRead(
            id=a.id,
            session_id=a.session_id,
            session_date=dates[a.session_id],
            text=a.text,
            responsible_institution=a.responsible_institution,
            due_on=a.due_on,
            status=a.status,
            completed_on=a.completed_on,
            overdue=is_overdue(a, today),
            on_time=on_time(a),
            follow_ups=notes[a.id],
        )
        for a in agreements
    ]


def read_agreement(session: Session, agreement_id: int) -> s.AgreementRead:
    return _agreement_reads(session, [get_agreement(session, agreement_id)])[0]


def is_overdue(agreement: Agreement, today: date) -> bool:
    return agreement.status in OPEN and agreement.due_on < today


def on_time(agreement: Agreement) -> bool | None:
    if agreement.status != AgreementStatus.CUMPLIDO or agreement.completed_on is None:
        return None
    return agreement.completed_on <= agreement.due_on


def read_session(session: Session, session_id: int) -> s.SessionRead:
    council = get_session(session, session_id)
    rows = session.scalars(
        select(SessionAttendance).where(SessionAttendance.session_id == council.id)
    ).all()
    catalogue = seats()
    order = {code: i for i, code in enumerate(catalogue)}
    attendance = [
        s.AttendanceRead(
            seat=r.seat,
            label=catalogue[r.seat].label if r.seat in catalogue else r.seat,
            institution=r.institution,
            present=r.present,
        )
        for r in sorted(rows, key=lambda r: order.get(r.seat, len(order)))
    ]
    present = sum(1 for a in attendance if a.present)
    needed = quorum_needed(len(attendance))
    agreements = session.scalars(
        select(Agreement).where(Agreement.session_id == council.id).order_by(Agreement.id)
    ).all()
    minutes = None
    if council.minutes_sha256:
        minutes = s.MinutesRead(
            name=council.minutes_name or "acta",
            media_type=council.minutes_type or "application/octet-stream",
            sha256=council.minutes_sha256,
        )
    return s.SessionRead(
        id=council.id,
        comuna=council.comuna_code,
        held_on=council.held_on,
        kind=council.kind,
        attendance=attendance,
        present_count=present,
        seat_count=len(attendance),
        quorum_needed=needed,
        quorum=present >= needed,
        minutes=minutes,
        agreements=_agreement_reads(session, list(agreements)),
    )


def list_sessions(
    session: Session, comuna: str | None, year: int | None = None
) -> list[s.SessionRead]:
    stmt = select(CouncilSession.id).order_by(CouncilSession.held_on.desc(), CouncilSession.id)
    if comuna:
        stmt = stmt.where(CouncilSession.comuna_code == comuna)
    if year:
        stmt = stmt.where(
            CouncilSession.held_on >= date(year, 1, 1), CouncilSession.held_on <= date(year, 12, 31)
        )
    return [read_session(session, sid) for sid in session.scalars(stmt)]


def list_agreements(
    session: Session,
    comuna: str | None,
    *,
    status: AgreementStatus | None = None,
    overdue: bool | None = None,
) -> list[s.AgreementRead]:
    stmt = select(Agreement).order_by(Agreement.due_on, Agreement.id)
    if comuna:
        stmt = stmt.where(Agreement.comuna_code == comuna)
    if status:
        stmt = stmt.where(Agreement.status == status)
    if overdue is not None:
        late = Agreement.status.in_(OPEN) & (Agreement.due_on < chile_today())
        stmt = stmt.where(late if overdue else ~late)
    return _agreement_reads(session, list(session.scalars(stmt)))


def agenda(session: Session, session_id: int) -> s.AgendaRead:
    """What the session must review: open agreements of earlier sessions that are overdue
    on its date or fall due within the month after it.
    """
    council = get_session(session, session_id)
    due = session.scalars(
        select(Agreement)
        .join(CouncilSession, CouncilSession.id == Agreement.session_id)
        .where(
            Agreement.comuna_code == council.comuna_code,
            Agreement.status.in_(OPEN),
            Agreement.due_on <= council.held_on + AGENDA_HORIZON,
            CouncilSession.held_on < council.held_on,
        )
        .order_by(Agreement.due_on, Agreement.id)
    ).all()
    return s.AgendaRead(
        session_id=council.id, held_on=council.held_on, due=_agreement_reads(session, list(due))
    )


# --- figures for the indicators and the reports ---------------------------------------------


@dataclass(frozen=True)
class CouncilFigures:
    sessions: list[CouncilSession]
    months: list[tuple[Month, int]]  # months elapsed in the period, sessions held in each
    attendance: list[tuple[str, int, int]]  # institution, present, possible
    agreements_due: list[Agreement]

    @property
    def months_with_session(self) -> int:
        return sum(1 for _, n in self.months if n)

    @property
    def on_time(self) -> int:
        return sum(1 for a in self.agreements_due if on_time(a))


def _elapsed_months(period: Period, until: date) -> list[Month]:
    months, month = [], period.first
    while month.key <= period.last.key and month.start.date() <= until:
        months.append(month)
        month = month.shift(1)
    return months


def figures(session: Session, comuna: str, period: Period, until: date) -> CouncilFigures:
    """Sessions held in the period up to `until` (Chile's date of the data cutoff)."""
    start, end = period.start.date(), min(period.end.date() - timedelta(days=1), until)
    held = list(
        session.scalars(
            select(CouncilSession)
            .where(
                CouncilSession.comuna_code == comuna,
                CouncilSession.held_on >= start,
                CouncilSession.held_on <= end,
            )
            .order_by(CouncilSession.held_on, CouncilSession.id)
        )
    )
    per_month: dict[str, int] = defaultdict(int)
    for council in held:
        per_month[f"{council.held_on.year:04d}-{council.held_on.month:02d}"] += 1
    months = [(m, per_month.get(m.key, 0)) for m in _elapsed_months(period, until)]
    by_institution: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in session.scalars(
        select(SessionAttendance).where(SessionAttendance.session_id.in_([c.id for c in held]))
    ):
        by_institution[r.institution][0] += int(r.present)
        by_institution[r.institution][1] += 1
    due = list(
        session.scalars(
            select(Agreement)
            .where(
                Agreement.comuna_code == comuna,
                Agreement.due_on >= start,
                Agreement.due_on <= end,
                Agreement.status != AgreementStatus.DESCARTADO,
            )
            .order_by(Agreement.due_on, Agreement.id)
        )
    )
    return CouncilFigures(
        sessions=held,
        months=months,
        attendance=[(i, p, n) for i, (p, n) in sorted(by_institution.items())],
        agreements_due=due,
    )


def agreements_of(session: Session, f: CouncilFigures) -> list[Agreement]:
    """The agreements a period's report lists: made in its sessions or due in it."""
    made = session.scalars(
        select(Agreement).where(Agreement.session_id.in_([c.id for c in f.sessions]))
    ).all()
    found = {a.id: a for a in [*made, *f.agreements_due]}
    return sorted(found.values(), key=lambda a: (a.due_on, a.id))


def share(part: int, total: int) -> float | None:
    return None if total == 0 else round(100.0 * part / total, 1)


def indicators_read(
    session: Session, comuna: str | None, period: Period
) -> s.CouncilIndicatorsRead:
    code = resolve_comuna(session, comuna).code
    today = chile_today()
    f = figures(session, code, period, today)
    overdue_now = sum(
        1
        for a in session.scalars(select(Agreement).where(Agreement.comuna_code == code))
        if is_overdue(a, today)
    )
    return s.CouncilIndicatorsRead(
        comuna=code,
        period=period.key,
        sessions=len(f.sessions),
        ordinary=sum(1 for c in f.sessions if c.kind == SessionKind.ORDINARIA),
        extraordinary=sum(1 for c in f.sessions if c.kind == SessionKind.EXTRAORDINARIA),
        months=[s.MonthCount(month=m.key, sessions=n) for m, n in f.months],
        months_with_session=f.months_with_session,
        months_elapsed=len(f.months),
        attendance=[
            s.InstitutionAttendance(institution=i, present=p, possible=n, share=share(p, n))
            for i, p, n in f.attendance
        ],
        agreements_due=len(f.agreements_due),
        agreements_on_time=f.on_time,
        on_time_share=share(f.on_time, len(f.agreements_due)),
        overdue_now=overdue_now,
    )
