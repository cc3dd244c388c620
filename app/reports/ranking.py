"""The barrio ranking for the bulletin's choropleth: the stored snapshot of the month.

While no snapshot covers the month, `ranking_for_month` returns None and the bulletin says
"Sin ranking calculado para el período".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.ranking import RankingSnapshot, RankingUnitResult
from app.reports.period import Month


@dataclass(frozen=True)
class RankedUnit:
    code: str
    rank: int
    score: float
    klass: str | None


@dataclass(frozen=True)
class RankingMap:
    snapshot_id: uuid.UUID
    computed_at: datetime
    profile: str
    units: list[RankedUnit]


def ranking_for_month(
    session: Session, comuna: str, month: Month, *, as_of: datetime, level: str = "barrio"
) -> RankingMap | None:
    """The latest stored snapshot whose period ends by the end of `month`, or None."""
    snapshot = session.scalars(
        select(RankingSnapshot)
        .where(
            RankingSnapshot.comuna_code == comuna,
            RankingSnapshot.level == level,
            RankingSnapshot.period_end <= month.end.date(),
            RankingSnapshot.computed_at <= as_of,
        )
        .order_by(RankingSnapshot.period_end.desc(), RankingSnapshot.computed_at.desc())
        .limit(1)
    ).first()
    if snapshot is None:
        return None
    units = [
        RankedUnit(r.unit_code, r.rank, r.score, r.class_)
        for r in session.scalars(
            select(RankingUnitResult)
            .where(RankingUnitResult.snapshot_id == snapshot.id)
            .order_by(RankingUnitResult.rank)
        )
    ]
    profile = f"{snapshot.profile_name} v{snapshot.profile_version}"
    return RankingMap(snapshot.id, snapshot.computed_at, profile, units)
