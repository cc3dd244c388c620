"""The public ranking summary: which barrios the latest stored ranking classes as critical.

What is published, and why (docs/privacidad.md):
- barrios only: micro-barrio populations are estimates, many under 1,000 residents;
- per unit only code, name, class, whether that class is stable under resampling (method 2;
  a yes/no, not the interval, which spans withheld barrios too) and a rank among the
  published units; no score, no raw
  value, no normalised value, no contribution (a score with decimals and the published
  weights lets one back out counts, and some variables, such as drug cases, are sensitive);
- barrios under 1,000 residents (or without a census population) are withheld, not merged:
  a merged unit was never ranked, so it has no class. The others are re-ranked 1..n so a gap
  does not tell where a withheld barrio stood;
- the snapshot id, period and profile name and version, so the summary can be cited and the
  full ranking reproduced by staff.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound
from app.privacy.thresholds import MIN_POPULATION
from app.rankings.store import RankingNotFound, latest_snapshot, unit_results
from app.territory.service import resolve_comuna

PUBLIC_LEVEL = "barrio"


class NoPublishedRanking(NotFound):
    code = "sin_ranking_publicado"
    title = "Sin ranking publicado"


def micro_barrio_refused() -> InvalidInput:
    return InvalidInput(
        "El ranking público es solo por barrio: las poblaciones de los micro-barrios son "
        "estimaciones y muchas están bajo 1.000 habitantes, el mínimo para publicar "
        "estadísticas de una unidad (docs/privacidad.md).",
        code="nivel_no_publico",
        errors=[{"field": "level", "location": "query", "reason": "solo barrio es público"}],
    )


def public_ranking(session: Session, *, comuna: str | None, level: str) -> dict[str, Any]:
    if level != PUBLIC_LEVEL:
        raise micro_barrio_refused()
    place = resolve_comuna(session, comuna)
    try:
        snapshot = latest_snapshot(session, level=PUBLIC_LEVEL, comuna=place.code)
    except RankingNotFound:
        raise NoPublishedRanking(
            f"Sin ranking publicado: aún no se ha calculado un ranking de barrios para la "
            f"comuna {place.code}."
        ) from None
    published: list[dict[str, Any]] = []
    withheld = 0
    for result in unit_results(session, snapshot.id):
        big_enough = (result.population or 0) >= MIN_POPULATION
        if not big_enough or result.population_estimated:
            withheld += 1
            continue
        published.append(
            {
                "code": result.unit_code,
                "name": result.unit_name,
                "class": result.class_,
                "rank": len(published) + 1,
                # method 2: false where resampling often moves the barrio to another class
                "stable": result.diagnostics.get("class_stable"),
            }
        )
    return {
        "snapshot_id": snapshot.id,
        "comuna": place.code,
        "level": PUBLIC_LEVEL,
        "period": {"start": snapshot.period_start, "end": snapshot.period_end},
        "profile": {"name": snapshot.profile_name, "version": snapshot.profile_version},
        "computed_at": snapshot.computed_at,
        "units": published,
        "withheld": withheld,
    }
