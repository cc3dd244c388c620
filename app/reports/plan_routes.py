"""The plan's dashboard: every goal with its indicators, targets and traffic light."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.api.deps import SessionDep, require_roles
from app.api.params import ComunaChoice
from app.api.schemas import problem_responses
from app.identity.caller import Caller
from app.models import Role
from app.reports.period import Month, Period, year_period, year_to_date
from app.reports.plan import default_plan, evaluate_plan
from app.reports.schemas import PlanDashboardRead, PlanIndicatorRow
from app.territory.service import resolve_comuna
from app.timezone import chile_today

router = APIRouter(prefix="/plan", tags=["plan comunal"])

ReaderDep = Annotated[Caller, Depends(require_roles(Role.PLANNER))]


def dashboard_period(year: int) -> Period:
    """The whole year, or January to this month while the year runs."""
    today = chile_today()
    if year == today.year:
        return year_to_date(Month(year, today.month))
    return year_period(year)


@router.get(
    "/dashboard",
    operation_id="getPlanDashboard",
    response_model=PlanDashboardRead,
    responses=problem_responses(401, 403, 422),
)
def dashboard(
    session: SessionDep,
    _: ReaderDep,
    year: Annotated[int, Query(ge=2000, le=2100, description="Año (hora de Chile).")],
    comuna: ComunaChoice = None,
) -> PlanDashboardRead:
    """Cada meta del plan con su indicador, valor, meta, estado y semáforo."""
    code = resolve_comuna(session, comuna).code
    plan = default_plan()
    period = dashboard_period(year)
    results = evaluate_plan(session, plan, code, period, as_of=datetime.now(UTC))
    return PlanDashboardRead(
        plan=plan.plan,
        comuna=code,
        period=period.key,
        period_label=period.label,
        proposed=plan.proposed,
        goals=len(plan.goals()),
        rows=[
            PlanIndicatorRow(
                ambito=r.objective.ambito,
                objective=r.objective.code,
                goal=r.goal.code,
                goal_text=r.goal.goal,
                code=r.indicator.code,
                indicator=r.indicator.indicator,
                value=r.value,
                value_text=r.value_text,
                target_text=r.target_text,
                status=r.status,
                light=r.light,
                source=r.source,
                means_of_verification=r.indicator.means_of_verification,
                manual_reason=r.indicator.manual_reason,
                note=r.note,
            )
            for r in results
        ],
    )
