"""The barrio ranking for the bulletin's choropleth, read through one small function.

The ranking tables (ranking_snapshot, ranking_unit_result) come from the rankings branch.
Until they exist, or while no snapshot covers the month, `ranking_for_month` returns None
and the bulletin says "Sin ranking calculado para el período". After merging, point this
function at the rankings service instead of the SQL below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.reports.period import Month


@dataclass(frozen=True)
class RankedUnit:
    code: str
    rank: int
    score: float
    klass: str | None


@dataclass(frozen=True)
class RankingMap:
    snapshot_id: int
    computed_at: datetime
    profile: str
    units: list[RankedUnit]


# Bind parameters only; table names are constants of the rankings contract.
_LATEST = text(
    """
    SELECT id, computed_at, profile_name || ' v' || profile_version AS profile
    FROM ranking_snapshot
    WHERE comuna_code = :comuna AND level = :level
      AND period_end <= :period_end AND computed_at <= :as_of
    ORDER BY period_end DESC, computed_at DESC
    LIMIT 1
    """
)
_UNITS = text(
    """
    SELECT unit_code, rank, score, class
    FROM ranking_unit_result WHERE snapshot_id = :snapshot ORDER BY rank
    """
)


def ranking_for_month(
    session: Session, comuna: str, month: Month, *, as_of: datetime, level: str = "barrio"
) -> RankingMap | None:
    """The latest snapshot whose period ends by the end of `month`, or None."""
    if session.scalar(text("SELECT to_regclass('ranking_snapshot')")) is None:
        return None
    snapshot = session.execute(
        _LATEST,
        {"comuna": comuna, "level": level, "period_end": month.end.date(), "as_of": as_of},
    ).first()
    if snapshot is None:
        return None
    units = [
        RankedUnit(r.unit_code, int(r.rank), float(r.score), r[3])
        for r in session.execute(_UNITS, {"snapshot": snapshot.id})
    ]
    return RankingMap(snapshot.id, snapshot.computed_at, snapshot.profile, units)
