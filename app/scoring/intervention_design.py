"""An intervention evaluation from its count table: comparison areas, models, verdict (#18).

Pure. The caller counts the relevant complaints per time bin (equal bins, as many before the
intervention as after) in the treated area, in the catchment ring around it and in every
candidate comparison unit (a micro-barrio with the treated area and the ring cut out), and
says which candidates lie in the same settlement. `evaluate_counts` then

1. chooses the comparison units by the shape of their series over matching bins that come
   BEFORE the estimation windows (not by their level, and not on the counts the effect is
   estimated from: either invites regression to the mean), same settlement first
   (`choose_comparisons`);
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
METHOD_VERSION = "evaluacion-3"


class EvaluationDataError(InvalidInput):
    """Too few complaints to evaluate: refused, never answered with a meaningless number."""

    code = "evaluacion_sin_datos_suficientes"
    title = "Datos insuficientes para evaluar"


def _window_problem(reason: str) -> FieldProblem:
    return FieldProblem(field="window_days", location="query", reason=reason)


@dataclass(frozen=True)
class AreaCounts:
    """Counts per bin: `matching_bins` of history (for choosing the comparison only), then
    `bins_before` before the intervention and as many after (the estimation windows)."""

    bins_before: int
    treated: np.ndarray
    catchment: np.ndarray
    candidates: dict[str, np.ndarray]
    same_settlement: dict[str, bool] = field(default_factory=dict)
    matching_bins: int = 0  # 0: no history; matched on the window before (see below)

    def estimation(self, series: np.ndarray) -> np.ndarray:
        return series[self.matching_bins :]

    def matching(self, series: np.ndarray) -> np.ndarray:
        m = self.matching_bins
        return series[:m] if m else series[: self.bins_before]

    def __post_init__(self) -> None:
        width = self.matching_bins + 2 * self.bins_before
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
    trend_distance: float | None  # mean squared difference of the log profiles (None: by level)
    before: int  # estimation window before
    after: int


def profile(counts: np.ndarray) -> np.ndarray:
    """Shape of a pre-period series: log((y_k + 0.5) / (mean y + 0.5)), level removed."""
    y = np.asarray(counts, dtype=float)
    return np.log((y + 0.5) / (y.mean() + 0.5))


def trend_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((profile(a) - profile(b)) ** 2))


def matched_on(counts: AreaCounts) -> str:
    """ "historia" (the bins before the estimation windows), "ventana_previa" (no history:
    the estimation window before, which invites regression to the mean) or "nivel" (too few
    treated complaints in the matching bins for a shape: the busiest candidates)."""
    if counts.matching(counts.treated).sum() < MIN_CANDIDATE_BEFORE:
        return "nivel"
    return "historia" if counts.matching_bins else "ventana_previa"


def choose_comparisons(counts: AreaCounts, n: int = COMPARISON_UNITS) -> list[Match]:
    """The `n` candidates whose series over the matching bins is closest in shape to the
    treated area's, those of the same settlement first (others only to fill up), ties by
    code. Matching on bins before the estimation windows keeps the choice independent of
    the counts the effect is estimated from: choosing on those (even on their shape, whose
    noise shrinks with the count) selects units that were lucky before, and their drop
    afterwards (regression to the mean) biases the comparison."""
    k, ref = counts.bins_before, counts.matching(counts.treated)
    shaped = matched_on(counts) != "nivel"
    matches, keys = [], {}
    for code, series in counts.candidates.items():
        window = counts.matching(series)
        if window.sum() < MIN_CANDIDATE_BEFORE:
            continue
        est = counts.estimation(series)
        distance = round(trend_distance(ref, window), 4) if shaped else None
        match = Match(
            unit=code,
            same_settlement=counts.same_settlement.get(code, False),
            trend_distance=distance,
            before=int(est[:k].sum()),
            after=int(est[k:].sum()),
        )
        matches.append(match)
        keys[code] = (not match.same_settlement, distance if shaped else -window.sum(), code)
    matches.sort(key=lambda m: keys[m.unit])
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
    matched_on: str  # historia | ventana_previa | nivel (see `matched_on`)
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
    treated_series = counts.estimation(counts.treated)
    tb = int(treated_series[:k].sum())
    if tb < MIN_TREATED_BEFORE:
        raise EvaluationDataError(
            f"El área intervenida tuvo {tb} denuncias relevantes antes de la intervención; "
            f"se necesitan al menos {MIN_TREATED_BEFORE}. Amplíe la ventana o el radio, o "
            "revise los delitos considerados.",
            errors=[_window_problem(f"{tb} denuncias antes (mínimo {MIN_TREATED_BEFORE})")],
        )
    matches = choose_comparisons(counts)
    chosen = {m.unit: counts.estimation(counts.candidates[m.unit]) for m in matches}
    cb = sum(m.before for m in matches)
    if cb < MIN_COMPARISON_BEFORE or not chosen:
        raise EvaluationDataError(
            f"Las áreas de comparación suman {cb} denuncias relevantes antes de la "
            f"intervención; se necesitan al menos {MIN_COMPARISON_BEFORE}.",
            errors=[_window_problem(f"{cb} en la comparación (mínimo {MIN_COMPARISON_BEFORE})")],
        )
    ca = sum(m.after for m in matches)
    treated = area_effect(treated_series, chosen, k)
    ring = counts.estimation(counts.catchment)
    ring_before, ring_after = int(ring[:k].sum()), int(ring[k:].sum())
    catchment = area_effect(ring, chosen, k) if ring_before > 0 else None
    displacement = stats.weighted_displacement(tb, treated.after, ring_before, ring_after, cb, ca)
    dispersion = treated.model.dispersion
    mde = stats.minimum_detectable_effect(tb, cb, ca, dispersion=dispersion)
    return InterventionResult(
        matched_on=matched_on(counts),
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
