"""Progress against the plan: the SPD progress report (year to date) and the annual
cuenta pública (calendar year). Both are built here in their internal version.

Phase 2 hook: the public annual report is `public_version(internal, suppress)`, with the
privacy branch's small-cell suppression passed in as `suppress`. Nothing public is rendered
until then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from app.models import ReportKind
from app.services.reports import data
from app.services.reports.period import Period
from app.services.reports.plan import IndicatorResult, Plan, default_plan, evaluate_plan


@dataclass(frozen=True)
class PeriodRow:
    code: str | None
    name: str
    current: int
    previous: int  # same months of the previous year

    @property
    def change(self) -> float | None:
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

    @property
    def total(self) -> PeriodRow:
        return PeriodRow(
            None,
            "Total",
            sum(r.current for r in self.families),
            sum(r.previous for r in self.families),
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
    )


CountSuppressor = Callable[[list[PeriodRow]], list[PeriodRow]]


def public_version(internal: Progress, suppress: CountSuppressor) -> Progress:
    """Phase 2 hook for the public cuenta pública: the same report with every count table
    passed through the privacy rules (`suppress`, e.g. "<5" cells and complementary
    suppression from the privacy branch) and the staff-only sections dropped (work per
    responsible unit). The result must pass `vigia privacy check` before it is published.
    """
    return replace(
        internal,
        audience="público",
        families=suppress(internal.families),
        barrios=suppress(internal.barrios),
        units=[],
    )
