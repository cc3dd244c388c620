"""The Ámbito I (council) and Ámbito III (prevention activities) sections of the SPD progress
report and the cuenta pública, from the council registry and the activity records.

The public version keeps what the community may read: sessions, attendance per institution,
how many agreements were met on time, activities done against planned per goal and their
attendance (1-4 shown as "<5"), the share of critical barrios reached. It drops the
agreements' text, the list of activities with their places and the barrio codes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from app.activities.catalog import kinds
from app.activities.indicators import critical_barrios, goal_figures, reached_barrios
from app.activities.service import list_activities
from app.activities.summary import attendance_by_column
from app.council import queries as council
from app.models.activity import AgeBand, Sex
from app.privacy.suppression import is_small, label
from app.privacy.thresholds import GENERAL_THRESHOLD
from app.reports.indicators import share
from app.reports.period import Period
from app.reports.plan import Plan
from app.timezone import chile_today

Shown = int | str  # a number, or "<5"

BAND_LABELS = {
    AgeBand.NINOS: "0 a 13 años",
    AgeBand.ADOLESCENTES: "14 a 17 años",
    AgeBand.JOVENES: "18 a 29 años",
    AgeBand.ADULTOS: "30 a 59 años",
    AgeBand.MAYORES: "60 años o más",
}


@dataclass(frozen=True)
class SessionLine:
    held_on: date
    kind: str
    present: int
    seats: int
    quorum: bool
    agreements: int


@dataclass(frozen=True)
class AgreementLine:
    text: str
    institution: str
    due_on: date
    status: str
    overdue: bool
    on_time: bool | None


@dataclass(frozen=True)
class CouncilSection:
    sessions: list[SessionLine]
    months: list[tuple[str, int]]  # short month label, sessions
    attendance: list[tuple[str, int, int, float | None]]  # institution, present, possible, %
    agreements: list[AgreementLine]  # agreed or due in the period (internal only)
    agreements_due: int
    on_time: int
    open_overdue: int

    @property
    def months_with_session(self) -> int:
        return sum(1 for _, n in self.months if n)

    @property
    def on_time_share(self) -> float | None:
        return share(self.on_time, self.agreements_due)


@dataclass(frozen=True)
class GoalLine:
    code: str
    goal: str
    planned: int
    done: int
    attendance: Shown
    short: str = ""  # the goal's first activity kind, for chart labels

    @property
    def done_share(self) -> float | None:
        return share(self.done, self.planned)


@dataclass(frozen=True)
class ActivityLine:
    held_on: date
    kind: str
    place: str
    barrio: str | None
    status: str
    attendance: int


@dataclass(frozen=True)
class ActivitySection:
    goals: list[GoalLine]
    bands: list[tuple[str, Shown, Shown]]  # age band, mujeres, hombres
    activities: list[ActivityLine]  # internal only
    critical: list[str]  # internal only
    reached: list[str]  # internal only
    coverage: float | None
    critical_count: int

    @property
    def done(self) -> int:
        return sum(g.done for g in self.goals)


def council_section(
    session: Session, comuna: str, period: Period, as_of: datetime
) -> CouncilSection:
    today = chile_today(as_of)
    f = council.figures(session, comuna, period, today)
    sessions = [council.read_session(session, c.id) for c in f.sessions]
    return CouncilSection(
        sessions=[
            SessionLine(
                s.held_on, s.kind.value, s.present_count, s.seat_count, s.quorum, len(s.agreements)
            )
            for s in sessions
        ],
        months=[(m.short_label, n) for m, n in f.months],
        attendance=[(i, p, n, share(p, n)) for i, p, n in f.attendance],
        agreements=[
            AgreementLine(
                a.text,
                a.responsible_institution,
                a.due_on,
                a.status.value.replace("_", " "),
                a.status in council.OPEN and a.due_on < today,
                council.on_time(a),
            )
            for a in council.agreements_of(session, f)
        ],
        agreements_due=len(f.agreements_due),
        on_time=f.on_time,
        open_overdue=sum(
            1 for a in f.agreements_due if a.status in council.OPEN and a.due_on < today
        ),
    )


def activity_section(
    session: Session, comuna: str, period: Period, as_of: datetime, plan: Plan
) -> ActivitySection:
    goals = plan.goals()
    figures = {g.goal: g for g in goal_figures(session, comuna, None, period, as_of)}
    first_kind: dict[str, str] = {}
    for k in kinds().values():
        if k.goal in goals:
            first_kind.setdefault(k.goal, k.label)
    lines = [
        GoalLine(code, goals[code].goal, f.planned, f.done, f.attendance, first_kind[code])
        for code in first_kind
        if (f := figures.get(code)) is not None
    ]
    columns = attendance_by_column(session, comuna, period, as_of)
    bands = [
        (
            BAND_LABELS[band],
            columns[f"{Sex.MUJERES.value}_{band.value}"],
            columns[f"{Sex.HOMBRES.value}_{band.value}"],
        )
        for band in AgeBand
    ]
    first, last = period.start.date(), period.end.date()
    activities = [
        ActivityLine(a.held_on, a.kind_label, a.place, a.barrio, a.status.value, a.attendance_total)
        for a in reversed(list_activities(session, comuna))
        if first <= a.held_on < last and a.held_on <= chile_today(as_of)
    ]
    critical = critical_barrios(session, comuna, as_of)
    reached = reached_barrios(session, comuna, period, as_of)
    return ActivitySection(
        goals=lines,
        bands=list(bands),
        activities=activities,
        critical=sorted(critical.values()),
        reached=sorted(critical[i] for i in critical.keys() & reached),
        coverage=share(len(critical.keys() & reached), len(critical)),
        critical_count=len(critical),
    )


def _shown(value: Shown) -> Shown:
    if isinstance(value, int) and is_small(value, GENERAL_THRESHOLD):
        return label(GENERAL_THRESHOLD)
    return value


def public_council(section: CouncilSection) -> CouncilSection:
    return replace(section, agreements=[])


def public_activities(section: ActivitySection) -> ActivitySection:
    return replace(
        section,
        goals=[replace(g, attendance=_shown(g.attendance)) for g in section.goals],
        bands=[(b, _shown(w), _shown(m)) for b, w, m in section.bands],
        activities=[],
        critical=[],
        reached=[],
    )
