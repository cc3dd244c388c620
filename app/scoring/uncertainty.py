"""How sure is a rank? A parametric bootstrap of the whole index and a weight-sensitivity run.

Bootstrap (method 2): every count of every unit is redrawn from a Poisson law with the
observed count as its mean (the violent and non-violent complaints apart, so the share stays
a share; the risk-factor load scales with its redrawn number of open factors), and the whole
index is recomputed on each of `draws` draws at once (arrays of units x draws): smoothing,
shares, loads, normalisation, contributions, score, rank. Two decisions are held at their
observed value, because recomputing them needs permutations per draw: which variables carry
signal, and which units are significant trend rises or hot spots (their values -- the log
rate ratio and the Gi* z -- are recomputed). The rank interval is the 5-95 % range of the
unit's rank over the draws; the class probabilities apply the observed class breaks (midway
between neighbouring classes) to every draw's score.

Weight sensitivity: each weight multiplied by an independent uniform factor in
[1 - spread, 1 + spread], the normalised values fixed; the 5-95 % range of the rank.

Both are seeded: the same inputs give the same intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import sparse

from app.scoring.composite import CLASSES
from app.scoring.profiles import Normalisation, ScoringProfile, Smoothing
from app.scoring.smoothing import binomial_eb
from app.scoring.variables_v2 import (
    Counts,
    VariablesV2,
    load_per_thousand,
    smoothed_rates,
)

BOOTSTRAP_DRAWS = 1000
BOOTSTRAP_SEED = 20_965
SENSITIVITY_SPREAD = 0.5
INTERVAL = (5.0, 95.0)


@dataclass(frozen=True)
class Uncertainty:
    rank_low: pd.Series
    rank_high: pd.Series
    class_probability: pd.DataFrame  # one column per class label, rows sum to 1
    sensitivity_low: pd.Series
    sensitivity_high: pd.Series
    draws: int
    seed: int


def bootstrap(
    variables: VariablesV2,
    profile: ScoringProfile,
    observed_score: pd.Series,
    observed_class: pd.Series,
    labels: tuple[str, ...],
    *,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = BOOTSTRAP_SEED,
) -> Uncertainty:
    index = observed_score.index
    rng = np.random.default_rng(seed)
    weighted = _signal_weights(variables, profile)
    needed = {n for n, w in weighted.items() if w > 0 and n in variables.raw.columns}
    raw = _draw_variables(variables, profile, rng, draws, needed)
    score = _scores(raw, weighted, profile, len(variables.raw), draws)
    low, high = rank_interval(score)
    probability = _class_probability(score, observed_score, observed_class, labels)
    sens_low, sens_high = _sensitivity(variables, profile, weighted, rng, draws)
    if not any(weighted.values()):  # no variable carries signal: any place could be anywhere
        low, high = np.ones(len(index)), np.full(len(index), len(index))
    return Uncertainty(
        rank_low=pd.Series(low.astype(int), index=index),
        rank_high=pd.Series(high.astype(int), index=index),
        class_probability=pd.DataFrame(probability, index=index, columns=list(labels)),
        sensitivity_low=pd.Series(sens_low, index=index),
        sensitivity_high=pd.Series(sens_high, index=index),
        draws=draws,
        seed=seed,
    )


def _draw_variables(
    variables: VariablesV2,
    profile: ScoringProfile,
    rng: np.random.Generator,
    draws: int,
    needed: set[str],
) -> dict[str, np.ndarray]:
    """Every variable that contributes, recomputed on `draws` redrawn count tables.

    Variables that contribute nothing (no weight, or no signal) are not redrawn: their
    contribution is 0 in every draw, and skipping them is most of the bootstrap's cost.
    """
    counts = variables.counts
    k = len(counts.population)
    shape = (k, draws)
    dmcs_based = bool(needed & {"dmcs_trend", "hotspot"})
    rate_names = [n for n in counts.rates if n in needed or (n == "dmcs_rate" and dmcs_based)]
    means = {f"rate:{name}": counts.rates[name] for name in rate_names}
    if rate_names and "dmcs_trend" in needed:
        means["dmcs_prev"] = counts.dmcs_prev
    if "violent_share" in needed:
        means["violent"] = counts.violent
        means["rest"] = counts.total - counts.violent
    if "risk_factor_load" in needed:
        means["factors"] = counts.factors
    drawn = _poisson_blocks(rng, means, draws)

    out: dict[str, np.ndarray] = {}
    if rate_names:
        drawn_rates = Counts(
            population=counts.population,
            rates={name: drawn[f"rate:{name}"] for name in rate_names},
            dmcs_prev=counts.dmcs_prev,
            violent=counts.violent,
            total=counts.total,
            load=counts.load,
            factors=counts.factors,
        )
        smoothed = smoothed_rates(drawn_rates, profile.smoothing, variables.star)
        out.update({name: values[0] for name, values in smoothed.items()})
        if "dmcs_trend" in needed:
            now, before = drawn_rates.rates["dmcs_rate"], drawn["dmcs_prev"]
            comuna = (now.sum(axis=0) + 0.5) / (before.sum(axis=0) + 0.5)
            log_ratio = np.log((now + 0.5) / (before + 0.5) / comuna)
            rising = variables.trend.rising.to_numpy()[:, None]
            out["dmcs_trend"] = np.where(rising, log_ratio, 0.0)
        if "hotspot" in needed and variables.spots is not None and variables.star is not None:
            # as variables_v2, on the globally smoothed rate: the one just computed under the
            # global prior, else the global smoothing of the same drawn DMCS counts
            if profile.smoothing is Smoothing.GLOBAL:
                independent = out["dmcs_rate"]
            else:
                dmcs_only = replace(
                    drawn_rates, rates={"dmcs_rate": drawn_rates.rates["dmcs_rate"]}
                )
                independent = smoothed_rates(dmcs_only, Smoothing.GLOBAL, None)["dmcs_rate"][0]
            z = gi_star_z(independent, variables.star)
            out["hotspot"] = np.where(variables.spots.hot.to_numpy()[:, None], z, 0.0)
    if "violent_share" in needed:
        violent = drawn["violent"]
        total = violent + drawn["rest"]
        out["violent_share"] = binomial_eb(violent, total)[0]
    if "risk_factor_load" in needed:
        factors = drawn["factors"]
        per_factor = np.divide(
            counts.load, counts.factors, out=np.zeros_like(counts.load), where=counts.factors > 0
        )
        drawn_load = Counts(
            population=counts.population,
            rates={},
            dmcs_prev=counts.dmcs_prev,
            violent=counts.violent,
            total=counts.total,
            load=factors * per_factor[:, None],
            factors=factors,
        )
        out["risk_factor_load"] = load_per_thousand(drawn_load)
    for column in needed - set(out):  # external variables: no sampling model, held fixed
        out[column] = np.broadcast_to(variables.raw[column].to_numpy()[:, None], shape)
    return out


def _poisson_blocks(
    rng: np.random.Generator, means: dict[str, np.ndarray], draws: int
) -> dict[str, np.ndarray]:
    """`rng.poisson(mean[:, None] broadcast to (k, draws)).astype(float)` for each mean in
    turn, in ONE call: numpy draws an array of means element by element in C order, so the
    rows of the stacked means get the very variates (and leave the generator in the very
    state) of one call per mean (tests/scoring/test_uncertainty.py checks it)."""
    if not means:
        return {}
    stacked = np.concatenate(list(means.values()))
    values = rng.poisson(np.broadcast_to(stacked[:, None], (len(stacked), draws))).astype(float)
    out, start = {}, 0
    for name, mean in means.items():
        out[name] = values[start : start + len(mean)]
        start += len(mean)
    return out


def gi_star_z(values: np.ndarray, star: sparse.csr_array) -> np.ndarray:
    """Analytical Gi* z (Ord & Getis 1995, binary weights with the focal unit) per column.

    z_i = (sum_j s_ij y_j - W_i ybar) / (s sqrt(W_i (n - W_i) / (n - 1))), s^2 = mean(y^2) -
    ybar^2: esda's `G_Local(..., star=True, transform="B").Zs` (tests/scoring check it).
    Islands (W_i = 1) and constant columns give 0.
    """
    y = values if values.ndim == 2 else values[:, None]
    n = y.shape[0]
    w = np.asarray(star.sum(axis=1)).reshape(-1, 1)
    mean = y.mean(axis=0)
    s = np.sqrt(np.clip((y**2).mean(axis=0) - mean**2, 0.0, None))
    spread = np.sqrt(w * (n - w) / (n - 1.0))
    numerator = star @ y - w * mean
    denominator = s * spread
    z = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
    z[(w <= 1).ravel()] = 0.0
    return z if values.ndim == 2 else z.ravel()


def _signal_weights(variables: VariablesV2, profile: ScoringProfile) -> dict[str, float]:
    """Points (of 100) of each variable that carries signal; 0 for the rest."""
    total = profile.weight_total
    return {
        name: 100.0 * weight / total if variables.carries_signal(name) else 0.0
        for name, weight in profile.weights.items()
    }


def _normalise(values: np.ndarray, method: Normalisation, inverted: bool) -> np.ndarray:
    oriented = -values if inverted else values
    if method is Normalisation.PERCENTILE:
        k = oriented.shape[0]
        if k < 2:
            return np.zeros_like(oriented)
        ranks = oriented.argsort(axis=0).argsort(axis=0).astype(float)  # ties: by position
        return ranks / (k - 1.0)
    low, high = oriented.min(axis=0), oriented.max(axis=0)
    span = high - low
    return np.divide(oriented - low, span, out=np.zeros_like(oriented), where=span > 0)


def _scores(
    raw: dict[str, np.ndarray],
    points: dict[str, float],
    profile: ScoringProfile,
    units: int,
    draws: int,
) -> np.ndarray:
    score: np.ndarray | None = None
    for name, weight in points.items():
        if weight == 0.0 or name not in raw:
            continue
        part = weight * _normalise(raw[name], profile.normalisation, name in profile.inverted)
        score = part if score is None else score + part
    if score is None:  # nothing carries signal: every draw scores 0
        return np.zeros((units, draws))
    return np.clip(score, 0.0, 100.0)


def rank_interval(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the INTERVAL percentiles of its rank over the draws (columns of `score`).

    Rank 1 is the highest score of a draw, ties by unit order (the table is sorted by code);
    the percentiles are numpy's `method="nearest"`. The same numbers as a stable argsort of
    every column followed by `np.percentile(ranks, INTERVAL, axis=1, method="nearest")`
    (tests/scoring check it), computed without either: a stable sort of floats is 4x slower
    than numpy's default sort, and a percentile partitions every unit's draws.

    Each draw (a contiguous row of the transposed scores) is sorted by the default sort, which
    may put tied units in any order. A draw without ties has one sorted order, the stable one.
    In a draw with ties each unit gets the key (run of equal scores, unit position), unique in
    its draw, and sorting the keys puts tied units back in unit order: the unit at place p of
    the sorted keys has rank p + 1. A count of (unit, rank) pairs gives
    every order statistic: the j-th smallest rank of unit i is the first rank whose
    cumulative count exceeds j.
    """
    negated = np.ascontiguousarray(-score.T)  # (draws, units)
    draws, k = negated.shape
    order = np.argsort(negated, axis=1)
    rows = np.arange(draws)[:, None] * k
    ordered = np.take(negated, order + rows)
    same = ordered[:, 1:] == ordered[:, :-1]
    if np.isnan(ordered[:, -1]).any():  # NaNs sort last and tie among themselves
        same |= np.isnan(ordered[:, 1:]) & np.isnan(ordered[:, :-1])
    small = np.int32 if k * k < 2**31 else np.int64
    unit = order.astype(small)  # unit at each place: the sorted order where a draw has no ties
    tied = same.any(axis=1)
    if tied.any():  # only draws with ties need their tied units put back in unit order
        new_run = np.ones((int(tied.sum()), k), dtype=small)
        np.logical_not(same[tied], out=new_run[:, 1:], casting="unsafe")
        run = np.cumsum(new_run, axis=1, dtype=small) - 1
        unit[tied] = np.sort(run * k + unit[tied], axis=1) % k
    place = np.arange(k, dtype=small)
    counts = np.bincount((unit * k + place).ravel(), minlength=k * k).reshape(k, k)
    cumulative = counts.cumsum(axis=1)
    bounds = []
    for q in INTERVAL:  # "nearest": the order statistic at round-half-even(q / 100 (draws - 1))
        j = int(np.around(q / 100.0 * (draws - 1)))
        bounds.append((cumulative <= j).sum(axis=1) + 1)
    return bounds[0], bounds[1]


def _class_probability(
    score: np.ndarray, observed: pd.Series, classes: pd.Series, labels: tuple[str, ...]
) -> np.ndarray:
    present = [label for label in CLASSES if (classes == label).any()]  # ascending
    bounds = []
    for lower, upper in zip(present, present[1:], strict=False):
        top_of_lower = float(observed[classes == lower].max())
        bottom_of_upper = float(observed[classes == upper].min())
        bounds.append((top_of_lower + bottom_of_upper) / 2.0)
    # the class slot of every draw, 0 = lowest present: np.searchsorted(bounds, score,
    # side="right") (ascending bounds; NaN after all of them), one comparison per bound
    position = np.zeros(score.shape, dtype=np.intp)
    for bound in bounds:
        position += score >= bound
    missing = np.isnan(score)
    if missing.any():
        position[missing] = len(bounds)
    k, draws = score.shape
    slots = len(present)
    units = np.arange(k)[:, None]
    counts = np.bincount((units * slots + position).ravel(), minlength=k * slots)
    share = counts.reshape(k, slots) / float(draws)
    probability = np.zeros((k, len(labels)))
    for i, label in enumerate(present):
        probability[:, labels.index(label)] = share[:, i]
    return probability


def _sensitivity(
    variables: VariablesV2,
    profile: ScoringProfile,
    points: dict[str, float],
    rng: np.random.Generator,
    draws: int,
) -> tuple[np.ndarray, np.ndarray]:
    names = [n for n, w in points.items() if w > 0 and n in variables.raw.columns]
    k = len(variables.raw)
    if not names:
        ones = np.ones(k, dtype=int)
        return ones, np.full(k, k)
    normalised = np.column_stack(
        [
            _normalise(
                variables.raw[n].to_numpy(dtype=float), profile.normalisation, n in profile.inverted
            )
            for n in names
        ]
    )
    base = np.array([points[n] for n in names])
    factors = rng.uniform(1.0 - SENSITIVITY_SPREAD, 1.0 + SENSITIVITY_SPREAD, (len(names), draws))
    weights = base[:, None] * factors
    weights = 100.0 * weights / weights.sum(axis=0) * (base.sum() / 100.0)
    # a sum of (units x draws) products, not `normalised @ weights`: a matrix product goes to
    # multithreaded BLAS, whose threads cost more than the product on a busy 2-core machine
    score = np.zeros((k, draws))
    for j in range(len(names)):
        score += normalised[:, j, None] * weights[j]
    return rank_interval(score)
