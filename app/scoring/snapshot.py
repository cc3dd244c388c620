"""Reproducible rankings: every number, the profile version, the period and fingerprints.

`input_fingerprint` is a SHA-256 over a canonical serialisation of what determines the
numbers: the input table (units sorted by code, columns by name, numbers written by a fixed
rule), the contiguity neighbour lists, the profile fingerprint, the period, the level, the
Gi* parameters and the method version. `result_fingerprint` hashes the published numbers, so
whoever recomputes a ranking cited in a council session can check they got the same result.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd

from app.scoring import composite
from app.scoring.errors import ScoringInputError
from app.scoring.hotspots import HotSpotParams
from app.scoring.inputs import UnitInputs, adjacency
from app.scoring.profiles import ScoringProfile
from app.scoring.variables import Variables, compute_variables

METHOD_VERSION = "1"  # bump when a formula in app/scoring changes
LEVELS = ("barrio", "micro_barrio")
OUTPUT_DECIMALS = 6
_LIBRARIES = ("esda", "libpysal", "mapclassify", "numpy", "pandas")


@dataclass(frozen=True)
class Period:
    """Half-open [start, end): the months of complaints a ranking looks at."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ScoringInputError("el período debe terminar después de empezar")

    @classmethod
    def last_months(cls, months: int = 12, *, today: date) -> Period:
        """The `months` whole months before the month of `today` (default: last 12)."""
        end = today.replace(day=1)
        return cls(start=_shift_months(end, -months), end=end)

    def previous(self) -> Period:
        """The period of the same length just before (same number of months when whole)."""
        if self.start.day == 1 and self.end.day == 1:
            months = _month_index(self.end) - _month_index(self.start)
            return Period(start=_shift_months(self.start, -months), end=self.start)
        return Period(start=self.start - (self.end - self.start), end=self.start)

    def label(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _shift_months(first_of_month: date, months: int) -> date:
    index = _month_index(first_of_month) + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Ranking:
    level: str
    period: Period
    profile: ScoringProfile
    computed_at: datetime
    input_fingerprint: str
    result_fingerprint: str
    table: pd.DataFrame  # one row per unit, sorted by rank; columns documented in to_records
    hotspot_params: HotSpotParams | None
    software: dict[str, str] = field(default_factory=dict)

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per unit, by rank (numbers rounded to OUTPUT_DECIMALS)."""
        return [
            {"unit": str(code), **{k: _plain(v) for k, v in row.items()}}
            for code, row in self.table.iterrows()
        ]

    def metadata(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "profile": {
                "name": self.profile.name,
                "version": self.profile.version,
                "fingerprint": self.profile.fingerprint(),
                **self.profile.canonical(),
            },
            "computed_at": self.computed_at.isoformat(),
            "input_fingerprint": self.input_fingerprint,
            "result_fingerprint": self.result_fingerprint,
            "method_version": METHOD_VERSION,
            "hotspot": None
            if self.hotspot_params is None
            else {
                "seed": self.hotspot_params.seed,
                "permutations": self.hotspot_params.permutations,
                "alpha": self.hotspot_params.alpha,
            },
            "software": self.software,
        }


def compute_ranking(
    inputs: UnitInputs,
    profile: ScoringProfile,
    period: Period,
    level: str,
    *,
    computed_at: datetime | None = None,
    hotspot_params: HotSpotParams | None = None,
) -> Ranking:
    """Rank the units of `inputs` with `profile`; the result carries everything to cite it."""
    if level not in LEVELS:
        raise ScoringInputError(f"nivel desconocido '{level}'; use {' o '.join(LEVELS)}")
    params = hotspot_params or HotSpotParams()
    variables = compute_variables(
        inputs, require_hotspot=profile.weights.get("hotspot", 0.0) > 0, params=params
    )
    raw = _profile_columns(variables.raw, profile)
    normalised = composite.normalise(raw, profile.normalisation, profile.inverted).fillna(0.0)
    contrib = composite.contributions(normalised, profile)
    score = composite.scores(contrib)
    table = _assemble(raw, normalised, contrib, score, profile, variables)
    table = table.sort_values("rank", kind="mergesort")
    spots = variables.hotspots
    return Ranking(
        level=level,
        period=period,
        profile=profile,
        computed_at=computed_at or datetime.now(UTC),
        input_fingerprint=input_fingerprint(inputs, profile, period, level, params),
        result_fingerprint=result_fingerprint(table),
        table=table,
        hotspot_params=None if spots is None else spots.params,
        software=_software(),
    )


def _profile_columns(raw: pd.DataFrame, profile: ScoringProfile) -> pd.DataFrame:
    """The profile's variables; an unavailable one is allowed only with weight 0 (all NaN)."""
    columns = {}
    for name, weight in profile.weights.items():
        if name in raw.columns:
            columns[name] = raw[name]
        elif weight > 0:
            raise ScoringInputError(f"el perfil pondera '{name}' pero la entrada no la trae")
        else:
            columns[name] = pd.Series(float("nan"), index=raw.index)
    return pd.DataFrame(columns, index=raw.index)


def _assemble(
    raw: pd.DataFrame,
    normalised: pd.DataFrame,
    contrib: pd.DataFrame,
    score: pd.Series,
    profile: ScoringProfile,
    variables: Variables,
) -> pd.DataFrame:
    parts = [
        raw.add_prefix("raw_"),
        normalised.add_prefix("norm_"),
        contrib.add_prefix("contrib_"),
        pd.DataFrame(
            {
                "score": score,
                "class": composite.classify(score, profile.classifier),
                "rank": composite.rank(score),
                "top_variables": composite.top_variables(contrib),
                "dmcs_crude_rate": variables.dmcs.crude,
                "dmcs_shrinkage": variables.dmcs.shrinkage,
                "population_missing": variables.dmcs.imputed,
            }
        ),
    ]
    spots = variables.hotspots
    if spots is not None:
        parts.append(
            pd.DataFrame(
                {
                    "gi_z": spots.z,
                    "gi_p_sim": spots.p_sim,
                    "gi_hot": spots.hot,
                    "gi_island": spots.island,
                }
            )
        )
    return pd.concat(parts, axis=1)


# --- fingerprints ---------------------------------------------------------------------------


def canonical_number(value: Any) -> Any:
    """Integers as integers, other floats as repr of a 10-decimal rounding, NaN as None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return value
    number = float(value)
    if math.isnan(number):
        return None
    if number.is_integer():
        return int(number)
    return repr(round(number, 10) + 0.0)  # + 0.0 turns -0.0 into 0.0


def input_fingerprint(
    inputs: UnitInputs,
    profile: ScoringProfile,
    period: Period,
    level: str,
    params: HotSpotParams,
) -> str:
    table = inputs.table.sort_index().reindex(sorted(inputs.table.columns), axis=1)
    payload = {
        "method_version": METHOD_VERSION,
        "level": level,
        "period": period.label(),
        "profile": profile.fingerprint(),
        "columns": list(table.columns),
        "units": {str(code): [canonical_number(v) for v in row] for code, row in table.iterrows()},
        "adjacency": None if inputs.weights is None else adjacency(inputs.weights),
        "hotspot": [params.seed, params.permutations, canonical_number(params.alpha)],
    }
    return _sha256(payload)


def result_fingerprint(table: pd.DataFrame) -> str:
    ordered = table.sort_index().reindex(sorted(table.columns), axis=1)
    payload = {
        str(code): {str(k): _canonical_cell(v) for k, v in row.items()}
        for code, row in ordered.iterrows()
    }
    return _sha256(payload)


def _canonical_cell(value: Any) -> Any:
    if isinstance(value, str | list):
        return value
    return canonical_number(value)


def _sha256(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, str | list):
        return value
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if float(value).is_integer() and not isinstance(value, float):
        return int(value)
    return round(float(value), OUTPUT_DECIMALS)


def _software() -> dict[str, str]:
    found = {}
    for name in _LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            found[name] = "desconocida"
    return found
