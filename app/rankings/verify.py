"""Check a cited ranking: recompute it from its stored inputs and compare every number.

What a council member runs on a ranking cited in a session. It also re-aggregates today's
data for the same period, to say whether late complaints or risk factors would change the
inputs (they never change the stored snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.models import RankingSnapshot
from app.rankings.inputs import aggregate, unit_weights
from app.rankings.profiles import get_profile
from app.rankings.store import inputs_from_document, unit_results
from app.scoring import (
    HotSpotParams,
    Period,
    UnitInputs,
    compute_ranking,
)
from app.scoring.snapshot import input_fingerprint

MAX_DIFFERENCES = 50
_COMPARED = ("rank", "score", "class_", "raw", "normalised", "contributions", "top_variables")


@dataclass
class Verification:
    snapshot: RankingSnapshot
    input_fingerprint: str
    result_fingerprint: str
    current_input_fingerprint: str
    differences: list[dict[str, Any]] = field(default_factory=list)
    software_now: dict[str, str] = field(default_factory=dict)

    @property
    def inputs_match(self) -> bool:
        return self.input_fingerprint == self.snapshot.input_fingerprint

    @property
    def results_match(self) -> bool:
        return self.result_fingerprint == self.snapshot.result_fingerprint

    @property
    def matches(self) -> bool:
        return self.inputs_match and self.results_match and not self.differences

    @property
    def current_data_matches(self) -> bool:
        return self.current_input_fingerprint == self.snapshot.input_fingerprint


def _period(snapshot: RankingSnapshot) -> Period:
    return Period(start=snapshot.period_start, end=snapshot.period_end + timedelta(days=1))


def _hotspot_params(snapshot: RankingSnapshot) -> HotSpotParams | None:
    stored = snapshot.meta.get("hotspot")
    if not stored:
        return None
    return HotSpotParams(
        seed=int(stored["seed"]),
        permutations=int(stored["permutations"]),
        alpha=float(stored["alpha"]),
    )


def verify_snapshot(session: Session, snapshot: RankingSnapshot) -> Verification:
    profile = get_profile(session, snapshot.profile_name, snapshot.profile_version)
    period = _period(snapshot)
    params = _hotspot_params(snapshot)
    ranking = compute_ranking(
        inputs_from_document(snapshot.inputs),
        profile,
        period,
        snapshot.level,
        computed_at=snapshot.computed_at,
        hotspot_params=params,
    )
    stored = {row.unit_code: row for row in unit_results(session, snapshot.id)}
    names = list(profile.weights)
    differences: list[dict[str, Any]] = []
    recomputed_codes = set()
    for record in ranking.to_records():
        code = record["unit"]
        recomputed_codes.add(code)
        fresh = {
            "rank": record["rank"],
            "score": record["score"],
            "class_": record["class"],
            "raw": {n: record.get(f"raw_{n}") for n in names},
            "normalised": {n: record.get(f"norm_{n}") for n in names},
            "contributions": {n: record.get(f"contrib_{n}") for n in names},
            "top_variables": list(record["top_variables"]),
        }
        row = stored.get(code)
        for name in _COMPARED:
            old = None if row is None else getattr(row, name)
            if old != fresh[name]:
                differences.append(
                    {
                        "unit": code,
                        "field": name.rstrip("_"),
                        "stored": old,
                        "recomputed": fresh[name],
                    }
                )
    differences += [
        {"unit": code, "field": "unit", "stored": code, "recomputed": None}
        for code in sorted(set(stored) - recomputed_codes)
    ]

    # today's data for the same period, profile and parameters
    aggregated = aggregate(
        session, level=snapshot.level, comuna=snapshot.comuna_code, period=period, profile=profile
    )
    weights = None
    if snapshot.inputs.get("adjacency") is not None:
        weights = unit_weights(session, level=snapshot.level, comuna=snapshot.comuna_code)
    current = input_fingerprint(
        UnitInputs.build(aggregated.table, weights=weights),
        profile,
        period,
        snapshot.level,
        params or HotSpotParams(),
    )
    return Verification(
        snapshot=snapshot,
        input_fingerprint=ranking.input_fingerprint,
        result_fingerprint=ranking.result_fingerprint,
        current_input_fingerprint=current,
        differences=differences[:MAX_DIFFERENCES],
        software_now=dict(ranking.software),
    )
