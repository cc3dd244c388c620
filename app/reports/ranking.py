"""The barrio ranking for the bulletin: the stored snapshot of the month, in words.

While no snapshot covers the month, `ranking_for_month` returns None and the bulletin says
"Sin ranking calculado para el período". Everything is read from the stored snapshot (no
statistics run here, so no esda or pandas): each barrio's place with its interval and its class
with how often resampling keeps it (method 2), how much of the weight carried no signal, and
what each weighted variable measures. The phrases are app/rankings/wording.py's and the
variables' sentences `VARIABLES[...].plain`, the same the API and the map panel show.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.ranking import RankingSnapshot, RankingUnitResult
from app.rankings.wording import class_phrase, rank_phrase, signal_phrase, variable_label
from app.reports.period import Month
from app.scoring.profiles import VARIABLES


@dataclass(frozen=True)
class RankedUnit:
    code: str
    name: str
    rank: int
    score: float
    klass: str | None
    place: str  # "lugar 2 de 5, entre 1 y 4" (method 1: "lugar 2 de 5")
    class_text: str  # "alto, inestable (solo en 55 % de los remuestreos)"
    stable: bool | None  # None: method 1, no resampling


@dataclass(frozen=True)
class VariableNote:
    """One weighted variable of the profile, for the bulletin's "qué mide cada variable"."""

    label: str
    points: float  # its weight, in points of 100
    plain: str
    signal: bool | None  # method 2: False when it shows no difference between barrios


@dataclass(frozen=True)
class RankingMap:
    snapshot_id: uuid.UUID
    computed_at: datetime
    profile: str
    units: list[RankedUnit]
    method: str = "1"
    signal_summary: str | None = None
    variables: tuple[VariableNote, ...] = ()
    coverage: int | None = None  # method 2: the rank interval's percent (5-95: 90)

    @property
    def unstable(self) -> set[str]:
        return {u.code for u in self.units if u.stable is False}


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
    rows = list(
        session.scalars(
            select(RankingUnitResult)
            .where(RankingUnitResult.snapshot_id == snapshot.id)
            .order_by(RankingUnitResult.rank)
        )
    )
    units = [_unit(row, len(rows)) for row in rows]
    profile = f"{snapshot.profile_name} v{snapshot.profile_version}"
    return RankingMap(
        snapshot.id,
        snapshot.computed_at,
        profile,
        units,
        method=str(snapshot.meta.get("method_version", "1")),
        signal_summary=signal_phrase(snapshot.meta),
        variables=_variables(snapshot.meta),
        coverage=_coverage(snapshot.meta),
    )


def _unit(row: RankingUnitResult, total: int) -> RankedUnit:
    diagnostics = row.diagnostics or {}
    return RankedUnit(
        code=row.unit_code,
        name=row.unit_name,
        rank=row.rank,
        score=row.score,
        klass=row.class_,
        place=rank_phrase(
            row.rank, total, diagnostics.get("rank_low"), diagnostics.get("rank_high")
        ),
        class_text=class_phrase(
            row.class_ or "sin clase",
            diagnostics.get("class_probability"),
            diagnostics.get("class_stable"),
        ),
        stable=diagnostics.get("class_stable"),
    )


def _variables(meta: dict[str, Any]) -> tuple[VariableNote, ...]:
    """The profile's weighted variables, heaviest first, as stored with the snapshot."""
    stored = meta["profile"]["weights"]  # canonical form: repr strings
    weights = {name: float(value) for name, value in stored.items()}
    total = sum(weights.values()) or 1.0
    signal = meta.get("signal") or {}  # method 1: no tests
    notes = []
    for name, weight in sorted(weights.items(), key=lambda item: (-item[1], item[0])):
        if weight <= 0:
            continue
        variable = VARIABLES.get(name)
        test = signal.get(name)
        notes.append(
            VariableNote(
                label=variable_label(name),
                points=100.0 * weight / total,
                plain=variable.plain if variable is not None else "",
                signal=None if test is None else bool(test["signal"]),
            )
        )
    return tuple(notes)


def _coverage(meta: dict[str, Any]) -> int | None:
    low, high = (meta.get("uncertainty") or {}).get("interval", (None, None))
    return None if low is None or high is None else round(high - low)
