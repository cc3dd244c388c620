"""Progress against the plan: the SPD progress report (year to date) and the annual
cuenta pública (calendar year). Both are built here in their internal version; the public
cuenta pública is `public_version(internal, ...)` with the rows of the published, suppressed
cells (app/privacy/public_report.py puts them together).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.models import ReportKind
from app.reports import data
from app.reports.evaluation_section import EvaluationSection, evaluations_for
from app.reports.period import Period
from app.reports.plan import IndicatorResult, Plan, default_plan, evaluate_plan
from app.reports.plan_sections import (
    ActivitySection,
    CouncilSection,
    activity_section,
    council_section,
    public_activities,
    public_council,
)

Count = int | str  # a number, or a suppression label ("<5", "<10", "suprimido")


@dataclass(frozen=True)
class PeriodRow:
    code: str | None
    name: str
    current: Count
    previous: Count  # same months of the previous year

    @property
    def change(self) -> float | None:
        # no change from a suppressed count: it would give the hidden number back
        if not isinstance(self.current, int) or not isinstance(self.previous, int):
            return None
        if self.previous == 0:
            return None
        return round(100.0 * (self.current - self.previous) / self.previous, 1)


@dataclass(frozen=True)
class Progress:
    kind: ReportKind
    audience: str  # "interno" | "público"
    comuna: str
    comuna_name: str
    period: Period
    as_of: datetime
    plan: Plan
    indicators: list[IndicatorResult]
    families: list[PeriodRow]
    barrios: list[PeriodRow]
    units: list[data.UnitRow]
    projects: list[data.ProjectRow]
    public_total: PeriodRow | None = None  # the suppressed total row of the public version
    # finished projects, evaluated (internal versions only: they name exact areas)
    evaluation: EvaluationSection | None = None
    council: CouncilSection | None = None  # Ámbito I, from the council registry
    activities: ActivitySection | None = None  # Ámbito III, from the activity records

    @property
    def total(self) -> PeriodRow:
        if self.public_total is not None:
            return self.public_total
        return PeriodRow(
            None,
            "Total",
            sum(int(r.current) for r in self.families),
            sum(int(r.previous) for r in self.families),
        )

    @property
    def met(self) -> int:
        return sum(1 for r in self.indicators if r.status == "cumplida")


def _period_rows(
    session: Session,
    comuna: str,
    period: Period,
    keys: list[tuple[str, str]],
    *,
    by: str,
    as_of: datetime,
) -> list[PeriodRow]:
    previous = Period(period.first.shift(-12), period.last.shift(-12))
    now = data.monthly_counts(session, comuna, period.first, period.last, as_of=as_of, by=by)
    before = data.monthly_counts(session, comuna, previous.first, previous.last, as_of=as_of, by=by)

    def total(counts: dict[tuple[str | None, str], int], code: str) -> int:
        return sum(n for (key, _), n in counts.items() if key == code)

    return [PeriodRow(code, name, total(now, code), total(before, code)) for code, name in keys]


def build_progress(
    session: Session,
    kind: ReportKind,
    comuna: str,
    period: Period,
    *,
    as_of: datetime,
    plan: Plan | None = None,
) -> Progress:
    plan = plan or default_plan()
    return Progress(
        kind=kind,
        audience="interno",
        comuna=comuna,
        comuna_name=data.comuna_name(session, comuna),
        period=period,
        as_of=as_of,
        plan=plan,
        indicators=evaluate_plan(session, plan, comuna, period, as_of=as_of),
        families=_period_rows(
            session, comuna, period, data.families(session), by="family", as_of=as_of
        ),
        barrios=_period_rows(
            session, comuna, period, data.barrios(session, comuna), by="barrio", as_of=as_of
        ),
        units=data.risk_by_unit(session, comuna, period.start, period.end),
        projects=data.projects(session, comuna, period.end),
        evaluation=evaluations_for(
            session,
            comuna,
            # finished in the period or the two years before: a window after the end must
            # be over before the period closes (the evaluation refuses, never shortens)
            ended_from=(period.start - timedelta(days=730)).date(),
            ended_before=period.end.date(),
            as_of=as_of,
            until=min(as_of, period.end),
        ),
        council=council_section(session, comuna, period, as_of),
        activities=activity_section(session, comuna, period, as_of, plan),
    )


def public_version(
    internal: Progress, *, families: list[PeriodRow], total: PeriodRow, barrios: list[PeriodRow]
) -> Progress:
    """The public cuenta pública: the count tables replaced by their public rows and the
    staff-only section (work per responsible unit) dropped.

    The council and activity sections lose their free text, places and barrio codes
    (app/reports/plan_sections.py). The rows must come from the published cells of the year
    and the previous one
    (app/privacy/public_report.py), the same cells /api/v1/public/stats shows: the family
    table counts sensitive categories too (at comuna level, "<10"), the barrio table only
    non-sensitive ones with barrios under 1,000 residents merged.
    """
    return replace(
        internal,
        audience="público",
        families=families,
        public_total=total,
        barrios=barrios,
        units=[],
        evaluation=None,
        council=public_council(internal.council) if internal.council else None,
        activities=public_activities(internal.activities) if internal.activities else None,
    )
