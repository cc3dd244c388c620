"""Compute a ranking from the database and store it as a snapshot (flush, never commit)."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from app.errors import FieldProblem, InvalidInput
from app.models import RankingSnapshot
from app.rankings.inputs import aggregate, unit_weights
from app.rankings.profiles import get_profile
from app.rankings.store import store_snapshot
from app.scoring import (
    DEFAULT_PROFILES,
    Period,
    ScoringProfile,
    Smoothing,
    UnitInputs,
    compute_ranking,
)
from app.scoring.snapshot import LEVELS
from app.territory.service import resolve_comuna
from app.timezone import chile_today

Progress = Callable[[str], None]


def _invalid(field: str, reason: str) -> InvalidInput:
    item = FieldProblem(field=field, reason=reason, location="body")
    return InvalidInput(f"Dato inválido: {field}.", errors=[item])


def default_period_end(now: datetime | None = None) -> date:
    """Last day of the last complete month in Chile (America/Santiago)."""
    return chile_today(now).replace(day=1) - timedelta(days=1)


def period_for(period_end: date, months: int) -> Period:
    """The `months` months that end on `period_end` (included); whole months on a month end."""
    end = period_end + timedelta(days=1)
    index = end.year * 12 + end.month - 1 - months
    year, month = divmod(index, 12)
    day = min(end.day, calendar.monthrange(year, month + 1)[1])
    return Period(start=date(year, month + 1, day), end=end)


def resolve_profile(
    session: Session, level: str, name: str | None, version: int | None
) -> ScoringProfile:
    if version is not None and name is None:
        name = DEFAULT_PROFILES[level].name
    return get_profile(session, name or DEFAULT_PROFILES[level].name, version)


def needs_weights(profile: ScoringProfile) -> bool:
    """Contiguity is needed for Gi* (weighted) and for method 2's spatial prior and hot spots."""
    if profile.method == 2:
        return profile.smoothing is Smoothing.SPATIAL or profile.weights.get("hotspot", 0.0) > 0
    return profile.weights.get("hotspot", 0.0) > 0


def compute_snapshot(
    session: Session,
    *,
    level: str,
    comuna: str | None,
    period_end: date | None,
    months: int,
    profile_name: str | None,
    profile_version: int | None,
    computed_by: str,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> RankingSnapshot:
    """Aggregate, rank and store; raise domain errors (nothing written) on bad input."""
    say = progress or (lambda _stage: None)
    if level not in LEVELS:
        raise _invalid("level", f"nivel desconocido; use {' o '.join(LEVELS)}")
    if not 1 <= months <= 60:
        raise _invalid("months", "entre 1 y 60 meses")
    now = now or datetime.now(UTC)
    today = chile_today(now)
    if period_end is None:
        period_end = default_period_end(now)
    elif period_end > today:
        raise _invalid("period_end", "el período no puede terminar en el futuro")
    code = resolve_comuna(session, comuna).code
    profile = resolve_profile(session, level, profile_name, profile_version)
    period = period_for(period_end, months)

    say("agregando")
    aggregated = aggregate(session, level=level, comuna=code, period=period, profile=profile)
    weights = None
    if needs_weights(profile):
        weights = unit_weights(session, level=level, comuna=code)
    inputs = UnitInputs.build(aggregated.table, weights=weights)
    say("calculando")
    ranking = compute_ranking(inputs, profile, period, level, computed_at=now)
    say("guardando")
    return store_snapshot(
        session,
        comuna=code,
        ranking=ranking,
        inputs=inputs,
        aggregated=aggregated,
        computed_by=computed_by,
    )
