"""An intervention evaluation from its count table: comparison areas, models, verdict (#18).

Pure. The caller counts the relevant complaints per time bin (equal bins, as many before the
intervention as after) in the treated area, in the catchment ring around it and in every
candidate comparison unit (a micro-barrio with the treated area and the ring cut out), and
says which candidates lie in the same settlement. `evaluate_counts` then

1. chooses the comparison units by the shape of their pre-period series over the bins
   (not by their level: matching on one pre-period count invites regression to the mean),
   same settlement first (`choose_comparisons`);
2. fits the count difference-in-differences and the exact conditional test
   (app/scoring/intervention.py), for the treated area and for the ring;
3. computes the weighted displacement quotient and the minimum detectable effect, and says
   it in Spanish (app/scoring/intervention_verdict.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from app.errors import FieldProblem, InvalidInput
from app.scoring import intervention as stats

COMPARISON_UNITS = 5  # more units: more power; matched by shape, same settlement first
MIN_TREATED_BEFORE = 5  # relevant complaints in the treated area, whole pre-period
MIN_COMPARISON_BEFORE = 10  # in the chosen comparison units together, pre-period
MIN_CANDIDATE_BEFORE = 3  # a candidate unit with fewer before cannot show a trend
METHOD_VERSION = "evaluacion-2"


class EvaluationDataError(InvalidInput):
    """Too few complaints to evaluate: refused, never answered with a meaningless number."""

    code = "evaluacion_sin_datos_suficientes"
    title = "Datos insuficientes para evaluar"


def _window_problem(reason: str) -> FieldProblem:
    return FieldProblem(field="window_days", location="query", reason=reason)


@dataclass(frozen=True)
class AreaCounts:
    bins_before: int  # bins before; as many after
    treated: np.ndarray
    catchment: np.ndarray
    candidates: dict[str, np.ndarray]
    same_settlement: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        width = 2 * self.bins_before
        for name, counts in (("tratada", self.treated), ("anillo", self.catchment)):
            if len(counts) != width:
                raise ValueError(f"{name}: {len(counts)} bins, se esperaban {width}")
        for code, counts in self.candidates.items():
            if len(counts) != width:
                raise ValueError(f"{code}: {len(counts)} bins, se esperaban {width}")


@dataclass(frozen=True)
class Match:
    unit: str
    same_settlement: bool
    trend_distance: float  # mean squared difference of the log pre-period profiles
    before: int
    after: int


def profile(counts: np.ndarray) -> np.ndarray:
    """Shape of a pre-period series: log((y_k + 0.5) / (mean y + 0.5)), level removed."""
    y = np.asarray(counts, dtype=float)
    return np.log((y + 0.5) / (y.mean() + 0.5))


def trend_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((profile(a) - profile(b)) ** 2))


def choose_comparisons(counts: AreaCounts, n: int = COMPARISON_UNITS) -> list[Match]:
    """The `n` candidates whose pre-period shape is closest to the treated area's, taking
    those of the same settlement first (others only to fill up), ties by code."""
    k = counts.bins_before
    pre = counts.treated[:k]
    matches = [
        Match(
            unit=code,
            same_settlement=counts.same_settlement.get(code, False),
            trend_distance=round(trend_distance(pre, series[:k]), 4),
            before=int(series[:k].sum()),
            after=int(series[k:].sum()),
        )
        for code, series in counts.candidates.items()
        if series[:k].sum() >= MIN_CANDIDATE_BEFORE
    ]
    matches.sort(key=lambda m: (not m.same_settlement, m.trend_distance, m.unit))
    return matches[:n]


@dataclass(frozen=True)
class AreaEffect:
    """One area (treated, or the ring) against the comparison: both tests, one headline."""

    before: int
    after: int
    model: stats.CountDiD
    exact: stats.ExactTest
    headline: str  # "modelo" | "exacto"

    @property
    def irr(self) -> float:
        return self.exact.odds_ratio if self.headline == "exacto" else self.model.irr

    @property
    def interval(self) -> tuple[float, float]:
        if self.headline == "exacto":
            return self.exact.low, self.exact.high
        return self.model.low, self.model.high

    @property
    def p_value(self) -> float:
        return self.exact.p_value if self.headline == "exacto" else self.model.p_value

    @property
    def significant(self) -> bool:
        return self.p_value < stats.ALPHA


def area_effect(
    series: np.ndarray, comparisons: dict[str, np.ndarray], bins_before: int
) -> AreaEffect:
    k = bins_before
    before, after = int(series[:k].sum()), int(series[k:].sum())
    cb = int(sum(s[:k].sum() for s in comparisons.values()))
    ca = int(sum(s[k:].sum() for s in comparisons.values()))
    model = stats.fit_did(stats.did_table(series, comparisons, k))
    exact = stats.exact_conditional(before, after, cb, ca)
    headline = "exacto" if stats.small_counts(before, after, cb, ca) else "modelo"
    return AreaEffect(before, after, model, exact, headline)


@dataclass(frozen=True)
class InterventionResult:
    matches: list[Match]
    comparison_before: int
    comparison_after: int
    treated: AreaEffect
    catchment: AreaEffect | None  # None: no complaints in the ring before
    displacement: stats.Displacement
    mde: float | None
    method_version: str = METHOD_VERSION

    @property
    def expected_after(self) -> float:
        return self.treated.before * self.comparison_after / self.comparison_before


def evaluate_counts(counts: AreaCounts) -> InterventionResult:
    """Everything but the wording; refuses (EvaluationDataError) below the minimum counts."""
    k = counts.bins_before
    tb = int(counts.treated[:k].sum())
    if tb < MIN_TREATED_BEFORE:
        raise EvaluationDataError(
            f"El área intervenida tuvo {tb} denuncias relevantes antes de la intervención; "
            f"se necesitan al menos {MIN_TREATED_BEFORE}. Amplíe la ventana o el radio, o "
            "revise los delitos considerados.",
            errors=[_window_problem(f"{tb} denuncias antes (mínimo {MIN_TREATED_BEFORE})")],
        )
    matches = choose_comparisons(counts)
    chosen = {m.unit: counts.candidates[m.unit] for m in matches}
    cb = sum(m.before for m in matches)
    if cb < MIN_COMPARISON_BEFORE or not chosen:
        raise EvaluationDataError(
            f"Las áreas de comparación suman {cb} denuncias relevantes antes de la "
            f"intervención; se necesitan al menos {MIN_COMPARISON_BEFORE}.",
            errors=[_window_problem(f"{cb} en la comparación (mínimo {MIN_COMPARISON_BEFORE})")],
        )
    ca = sum(m.after for m in matches)
    treated = area_effect(counts.treated, chosen, k)
    ring = counts.catchment
    ring_before, ring_after = int(ring[:k].sum()), int(ring[k:].sum())
    catchment = area_effect(ring, chosen, k) if ring_before > 0 else None
    displacement = stats.weighted_displacement(tb, treated.after, ring_before, ring_after, cb, ca)
    dispersion = treated.model.dispersion
    mde = stats.minimum_detectable_effect(tb, cb, ca, dispersion=dispersion)
    return InterventionResult(
        matches=matches,
        comparison_before=cb,
        comparison_after=ca,
        treated=treated,
        catchment=catchment,
        displacement=displacement,
        mde=mde,
    )


def finite(value: float | None, digits: int = 4) -> float | None:
    """A number for JSON: None for NaN or infinity, rounded otherwise."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)
