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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd

from app.scoring import composite, method2
from app.scoring.errors import ScoringInputError
from app.scoring.exact_round import round_like_python
from app.scoring.hotspots import HotSpotParams
from app.scoring.inputs import UnitInputs, adjacency
from app.scoring.profiles import ScoringProfile
from app.scoring.variables import Variables, compute_variables

METHOD_VERSION = "1"  # method 1's formulas; a profile's `method` picks the method it runs
LEVELS = ("barrio", "micro_barrio")
OUTPUT_DECIMALS = 6
_LIBRARIES = ("esda", "libpysal", "mapclassify", "numpy", "pandas", "scipy", "statsmodels")


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
    method_meta: dict[str, Any] = field(default_factory=dict)  # method 2: signal, uncertainty

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per unit, by rank (numbers rounded to OUTPUT_DECIMALS)."""
        names = ["unit", *(str(k) for k in self.table.columns)]
        rows = _rows(self.table, _plain, _plain_floats)
        return [
            dict(zip(names, (str(code), *row), strict=True))
            for code, row in zip(self.table.index, rows, strict=True)
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
            "method_version": method_version(self.profile),
            **self.method_meta,
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
    meta: dict[str, Any] = {}
    if profile.method == 2:
        table, meta = method2.rank_table(inputs, profile, params)
        used_params = params if inputs.weights is not None else None
    else:
        table, used_params = _method1_table(inputs, profile, params)
    table = table.sort_values("rank", kind="mergesort")
    return Ranking(
        level=level,
        period=period,
        profile=profile,
        computed_at=computed_at or datetime.now(UTC),
        input_fingerprint=input_fingerprint(inputs, profile, period, level, params),
        result_fingerprint=result_fingerprint(table),
        table=table,
        hotspot_params=used_params,
        software=_software(),
        method_meta=meta,
    )


def _method1_table(
    inputs: UnitInputs, profile: ScoringProfile, params: HotSpotParams
) -> tuple[pd.DataFrame, HotSpotParams | None]:
    variables = compute_variables(
        inputs, require_hotspot=profile.weights.get("hotspot", 0.0) > 0, params=params
    )
    raw = _profile_columns(variables.raw, profile)
    normalised = composite.normalise(raw, profile.normalisation, profile.inverted).fillna(0.0)
    contrib = composite.contributions(normalised, profile)
    score = composite.scores(contrib)
    table = _assemble(raw, normalised, contrib, score, profile, variables)
    spots = variables.hotspots
    return table, None if spots is None else spots.params


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


def method_version(profile: ScoringProfile) -> str:
    """ "1" for method-1 profiles (their fingerprints are unchanged), else the profile's method."""
    return METHOD_VERSION if profile.method == 1 else str(profile.method)


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
    rows = _rows(table, canonical_number, _canonical_floats)
    payload = {
        "method_version": method_version(profile),
        "level": level,
        "period": period.label(),
        "profile": profile.fingerprint(),
        "columns": list(table.columns),
        "units": {str(code): list(row) for code, row in zip(table.index, rows, strict=True)},
        "adjacency": None if inputs.weights is None else adjacency(inputs.weights),
        "hotspot": [params.seed, params.permutations, canonical_number(params.alpha)],
    }
    if inputs.grid_hotspot is not None:  # absent otherwise: stored fingerprints still verify
        share = inputs.grid_hotspot.share.sort_index()
        payload["grid_hotspot"] = {str(k): canonical_number(v) for k, v in share.items()}
    return _sha256(payload)


def result_fingerprint(table: pd.DataFrame) -> str:
    ordered = table.sort_index().reindex(sorted(table.columns), axis=1)
    names = [str(k) for k in ordered.columns]
    rows = _rows(ordered, _canonical_cell, _canonical_floats)
    payload = {
        str(code): dict(zip(names, row, strict=True))
        for code, row in zip(ordered.index, rows, strict=True)
    }
    return _sha256(payload)


def _rows(
    table: pd.DataFrame,
    convert: Callable[[Any], Any],
    convert_floats: Callable[[np.ndarray], list[Any]],
) -> list[tuple[Any, ...]]:
    """Every cell converted column by column (no Series per unit), as row tuples.

    `tolist()` hands over the Python objects (float, int, bool, str, list) that a row of
    `DataFrame.iterrows` carries for a table with a text column (every ranking table) or of a
    single dtype (every input table), so the canonical forms are those of the row-wise code
    (pinned in tests/scoring/test_golden.py). float64 columns, most of the cells, go through
    `convert_floats` as arrays: the same rule as `convert`, vectorised (app/scoring/exact_round.py).
    """
    columns = []
    for _, column in table.items():
        if column.dtype == np.float64:
            columns.append(convert_floats(column.to_numpy()))
        elif column.dtype == np.bool_ or (
            column.dtype == np.int64 and bool((column.abs() < 2**53).all())
        ):  # both rules return a Python bool or int unchanged (floats hold these ints exactly)
            columns.append(column.tolist())
        else:
            columns.append([convert(v) for v in column.tolist()])
    if not columns:
        return [() for _ in table.index]
    return list(zip(*columns, strict=True))


def _canonical_floats(values: np.ndarray) -> list[Any]:
    """`canonical_number` of a float64 column: None, int, or repr of the 10-decimal rounding."""
    missing = np.isnan(values)
    whole = np.isfinite(values) & (values == np.trunc(values))
    out = np.empty(len(values), dtype=object)
    if missing.any():
        out[missing] = None
    if whole.any():
        out[whole] = [int(x) for x in values[whole].tolist()]
    rest = ~(missing | whole)
    if rest.any():
        rounded = round_like_python(values[rest], 10) + 0.0  # + 0.0 turns -0.0 into 0.0
        out[rest] = [repr(x) for x in rounded.tolist()]
    return out.tolist()


def _plain_floats(values: np.ndarray) -> list[float | None]:
    """`_plain` of every float64 of a column: None for NaN, else `round(x, OUTPUT_DECIMALS)`."""
    out: list[float | None] = round_like_python(values, OUTPUT_DECIMALS).tolist()
    for i in np.flatnonzero(np.isnan(values)).tolist():
        out[i] = None
    return out


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
    return dict(_loaded_versions())


@cache
def _loaded_versions() -> dict[str, str]:
    """Read once per process (metadata lookups cost ~2 ms): the libraries cannot change under it."""
    found = {}
    for name in _LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            found[name] = "desconocida"
    return found
