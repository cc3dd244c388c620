"""Public statistics (no key): fixed units, month precision, small cells suppressed."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api.deps import SessionDep
from app.api.params import ComunaChoice
from app.api.schemas import problem_responses
from app.privacy import public_rankings, public_stats
from app.privacy.schemas import PublicRankingRead, PublicStatsRead

router = APIRouter(prefix="/public", tags=["público"])


@router.get(
    "/stats",
    operation_id="publicComplaintStats",
    response_model=PublicStatsRead,
    responses=problem_responses(404, 422, 429),
)
def public_complaint_stats(
    session: SessionDep,
    level: Annotated[
        Literal["comuna", "barrio"], Query(description="comuna o barrio (unidades fijas).")
    ] = "barrio",
    year: Annotated[int, Query(ge=2000, le=2100, description="Año (hora de Chile).")] = (
        date.today().year
    ),
    comuna: ComunaChoice = None,
    family: Annotated[
        str | None, Query(pattern=r"^\d{1,3}$", description="Familia CEAD (no sensible).")
    ] = None,
) -> PublicStatsRead:
    """Denuncias por barrio (o comuna) y mes; sensibles solo por comuna y trimestre."""
    body = public_stats.public_stats(session, comuna=comuna, level=level, year=year, family=family)
    return PublicStatsRead.model_validate(body)


@router.get(
    "/rankings",
    operation_id="publicRankingSummary",
    response_model=PublicRankingRead,
    responses=problem_responses(404, 422, 429),
)
def public_ranking_summary(
    session: SessionDep,
    level: Annotated[
        str,
        Query(
            max_length=20,
            # the schema offers what is served; any other level is a 422 that says why
            json_schema_extra={"enum": ["barrio"]},
            description=(
                "Solo barrio es público (otro nivel responde 422 explicando por qué: los "
                "micro-barrios tienen muy pocos habitantes para publicar su lugar)."
            ),
        ),
    ] = "barrio",
    comuna: ComunaChoice = None,
) -> PublicRankingRead:
    """Clase y lugar de cada barrio en el último ranking guardado, citable por su id."""
    body = public_rankings.public_ranking(session, comuna=comuna, level=level)
    return PublicRankingRead.model_validate(body)
