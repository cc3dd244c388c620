"""The monthly council bulletin (Consejo Comunal, internal): its numbers, computed once.

Everything the bulletin shows comes from `build_bulletin`, so tests check the numbers
without parsing a PDF, and HTML and PDF never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.reports import data
from app.reports.evaluation_section import EvaluationSection, evaluations_for
from app.reports.period import Month
from app.reports.ranking import RankingMap, ranking_for_month
from app.reports.terrain import TerrainSection, terrain_for_month

TREND_MONTHS = 24  # the chart's span; enough for a 12-month moving average over 13 months
# projects finished in the last two years: with year-long windows, the younger ones are
# listed with the date their evaluation becomes possible
EVALUATION_LOOKBACK_DAYS = 730


@dataclass(frozen=True)
class TrendRow:
    """One family or barrio: this month, the same month last year, the 12-month average."""

    code: str | None  # None: complaints outside every barrio
    name: str
    current: int
    last_year: int
    moving_average: float  # mean of the 12 months ending with this one

    @property
    def change_vs_last_year(self) -> float | None:
        if self.last_year == 0:
            return None
        return round(100.0 * (self.current - self.last_year) / self.last_year, 1)

    @property
    def change_vs_average(self) -> float | None:
        if self.moving_average == 0:
            return None
        return round(100.0 * (self.current - self.moving_average) / self.moving_average, 1)


@dataclass
class Bulletin:
    comuna: str
    comuna_name: str
    month: Month
    as_of: datetime
    trend_months: list[Month]
    trend_counts: list[int]
    trend_moving_average: list[float | None]
    total: TrendRow
    families: list[TrendRow]
    barrios: list[TrendRow]
    units: list[data.UnitRow]
    risk_points: list[data.FactorPoint]
    ranking: RankingMap | None
    projects: list[data.ProjectRow]
    shapes: list[data.UnitShape]
    terrain: TerrainSection | None = None
    evaluation: EvaluationSection = field(default_factory=EvaluationSection)
    # the audit trail's anchor line, printed so it lives outside the database
    audit_anchor: str | None = None
    audit_problem: str | None = None

    @property
    def units_total(self) -> data.UnitRow:
        return data.UnitRow(
            "Total",
            sum(u.opened for u in self.units),
            sum(u.resolved for u in self.units),
            None,
            sum(u.open_at_end for u in self.units),
            sum(u.overdue_at_end for u in self.units),
        )


def moving_average(values: list[int], index: int, window: int = 12) -> float | None:
    """Mean of the `window` values ending at `index` (None if there are fewer)."""
    if index + 1 < window:
        return None
    return sum(values[index + 1 - window : index + 1]) / window


def _rows(
    keys: list[tuple[str | None, str]],
    series: dict[str | None, dict[str, int]],
    months: list[Month],
) -> list[TrendRow]:
    rows = []
    for code, name in keys:
        values = [series.get(code, {}).get(m.key, 0) for m in months]
        average = moving_average(values, len(values) - 1) or 0.0
        rows.append(TrendRow(code, name, values[-1], values[-13], average))
    return rows


def build_bulletin(session: Session, comuna: str, month: Month, *, as_of: datetime) -> Bulletin:
    months = [month.shift(-i) for i in range(TREND_MONTHS - 1, -1, -1)]
    by_family = data.group_series(
        data.monthly_counts(session, comuna, months[0], month, as_of=as_of, by="family")
    )
    by_barrio = data.group_series(
        data.monthly_counts(session, comuna, months[0], month, as_of=as_of, by="barrio")
    )
    totals = [sum(s.get(m.key, 0) for s in by_family.values()) for m in months]
    total = TrendRow(
        "total",
        "Total de denuncias",
        totals[-1],
        totals[-13],
        moving_average(totals, len(totals) - 1) or 0.0,
    )
    barrio_keys: list[tuple[str | None, str]] = list(data.barrios(session, comuna))
    if None in by_barrio:  # complaints outside every barrio still count in the total
        barrio_keys.append((None, "Fuera de los barrios"))
    bulletin = Bulletin(
        comuna=comuna,
        comuna_name=data.comuna_name(session, comuna),
        month=month,
        as_of=as_of,
        trend_months=months,
        trend_counts=totals,
        trend_moving_average=[moving_average(totals, i) for i in range(len(totals))],
        total=total,
        families=_rows(list(data.families(session)), by_family, months),
        barrios=_rows(barrio_keys, by_barrio, months),
        units=data.risk_by_unit(session, comuna, month.start, month.end),
        risk_points=data.risk_points(session, comuna, month),
        ranking=ranking_for_month(session, comuna, month, as_of=as_of),
        projects=data.projects(session, comuna, month.end),
        shapes=data.barrio_shapes(session, comuna),
        terrain=terrain_for_month(session, comuna, month, as_of=as_of),
    )
    bulletin.evaluation = evaluations_for(
        session,
        comuna,
        ended_from=(month.end - timedelta(days=EVALUATION_LOOKBACK_DAYS)).date(),
        ended_before=month.end.date(),
        as_of=as_of,
        until=min(as_of, month.end),
    )
    return bulletin
