"""Near-repeat (Knox) table over complaints. Sync on purpose: the permutations are CPU work
that FastAPI runs in its thread pool, off the event loop."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.api.deps import SessionDep, require_roles
from app.api.params import ComunaChoice
from app.api.schemas import problem_responses
from app.identity.caller import Caller
from app.models import Role
from app.near_repeat.schemas import NearRepeatRead
from app.near_repeat.service import MAX_PERMUTATIONS, near_repeat_report, report_read
from app.scoring.near_repeat import DEFAULT_PERMUTATIONS

router = APIRouter(prefix="/near-repeat", tags=["near-repeat"])

PlannerDep = Annotated[Caller, Depends(require_roles(Role.PLANNER))]
CategoryQuery = Annotated[
    str, Query(max_length=10, description="Código de la categoría (p. ej. 551).", examples=["551"])
]
MonthsQuery = Annotated[int, Query(ge=1, le=60, description="Meses del período.")]
EndQuery = Annotated[
    date | None,
    Query(description="Último día incluido; por defecto, fin del último mes completo."),
]
PermutationsQuery = Annotated[
    int, Query(ge=1, le=MAX_PERMUTATIONS, description="Permutaciones de Monte Carlo.")
]
SeedQuery = Annotated[int, Query(ge=0, description="Semilla de las permutaciones.")]


# A request holds a worker thread while it counts: 5,000 events take ~0.7 s, the CLI's cap
# of 20,000 about 17 s (docs/benchmarks.md), too long to hold a thread of a shared service.
API_MAX_EVENTS = 5_000


@router.get(
    "",
    operation_id="nearRepeat",
    response_model=NearRepeatRead,
    responses=problem_responses(401, 403, 422),
)
def near_repeat(
    session: SessionDep,
    caller: PlannerDep,
    category: CategoryQuery,
    comuna: ComunaChoice = None,
    months: MonthsQuery = 12,
    end: EndQuery = None,
    permutations: PermutationsQuery = DEFAULT_PERMUTATIONS,
    seed: SeedQuery = 0,
) -> NearRepeatRead:
    """Prueba de Knox por bandas de distancia y tiempo (roles planner, admin)."""
    report = near_repeat_report(
        session,
        category=category,
        comuna=comuna,
        months=months,
        period_end=end,
        permutations=permutations,
        seed=seed,
        caller=caller,
        max_events=API_MAX_EVENTS,
    )
    return report_read(report)
