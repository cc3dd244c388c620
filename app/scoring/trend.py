"""Trend of DMCS against the previous period, on smoothed rates.

trend_i = ln((r_i,now + d) / (r_i,prev + d)), where r are the empirical-Bayes DMCS rates per
1,000 residents of each period (each period smoothed on its own) and d is the rate of half a
complaint over all the residents of the ranking, a floor that keeps the ratio finite when a
period has no complaints at all and is negligible otherwise. A value of 0.10 is about +10 %;
-0.10 about -10 %. Because both rates are smoothed, a small unit whose counts move from 1 to 3
shows roughly the comuna's trend, not a 200 % jump.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from app.scoring.multiple import benjamini_hochberg
from app.scoring.smoothing import SmoothedRates


def smoothed_trend(
    current: SmoothedRates, previous: SmoothedRates, population: pd.Series
) -> pd.Series:
    """Log ratio of the current and previous smoothed rates, with a half-complaint floor."""
    floor = current.per * 0.5 / float(population[population > 0].sum())
    now = current.smoothed
    before = previous.smoothed.reindex(now.index)
    return pd.Series(np.log((now + floor) / (before + floor)), index=now.index, dtype=float)


# --- method 2: a rate-ratio test per unit ------------------------------------------------------
#
# Residents do not change between two consecutive periods, so a unit's two DMCS counts compare
# directly. Under "this unit moved like the comuna", given its n = now + before complaints,
# `now` is Binomial(n, p0) with p0 = N_now / (N_now + N_before) of the whole ranking: the
# exact conditional test of two Poisson rates (Przyborowski & Wilenski 1940), the
# `method="exact-cond"` of statsmodels' `test_poisson_2indep`, one-sided (`alternative=
# "larger"`): only a rise can add points. Benjamini-Hochberg over the
# units controls the false discovery rate; only a significant rise contributes, by its log
# rate ratio relative to the comuna (half-complaint continuity correction).


@dataclass(frozen=True)
class RateRatioTrend:
    ratio: pd.Series  # (now / before) / (N_now / N_before), with +0.5 on each count
    p_value: pd.Series  # one-sided (a rise) exact conditional binomial
    q_value: pd.Series  # Benjamini-Hochberg over the units
    rising: pd.Series  # significant rise (q <= alpha and ratio > 1)
    comuna_ratio: float  # N_now / N_before of the whole ranking (+0.5 each)

    @property
    def variable(self) -> pd.Series:
        """ln(ratio) where the unit rose significantly faster than the comuna, else 0."""
        return np.log(self.ratio).where(self.rising, 0.0).astype(float)


def rate_ratio_trend(now: pd.Series, before: pd.Series, *, alpha: float = 0.05) -> RateRatioTrend:
    now = now.astype(float)
    before = before.reindex(now.index).astype(float)
    total_now, total_before = float(now.sum()), float(before.sum())
    p0 = total_now / (total_now + total_before) if total_now + total_before > 0 else 0.5
    p = exact_binomial_greater(now.to_numpy(), (now + before).to_numpy(), p0)
    q = benjamini_hochberg(p)
    comuna = (total_now + 0.5) / (total_before + 0.5)
    ratio = ((now + 0.5) / (before + 0.5)) / comuna
    q_series = pd.Series(q, index=now.index)
    return RateRatioTrend(
        ratio=ratio,
        p_value=pd.Series(p, index=now.index),
        q_value=q_series,
        rising=(q_series <= alpha) & (ratio > 1.0),
        comuna_ratio=comuna,
    )


def exact_binomial_greater(k: np.ndarray, n: np.ndarray, p0: float) -> np.ndarray:
    """One-sided exact binomial p-values, P(X >= k) for X ~ Binomial(n, p0), all units at once.

    One-sided because the ranking only asks whether a place got worse faster than the comuna
    (a fall never adds points); it is `scipy.stats.binomtest(k, n, p0, alternative="greater")`
    (tests/scoring check equality with it and with statsmodels). n = 0 gives 1.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    return np.where(n == 0, 1.0, stats.binom.sf(k - 1, n, p0))


# --- power: which rises can these counts show at all? -----------------------------------------
#
# The test above can only flag a rise its counts can show. For a unit with `before_mean`
# complaints expected in the previous period and a rise of `ratio` (relative to the comuna),
# n = before + now is Poisson(before_mean (1 + ratio g)) and, given n, `now` is
# Binomial(n, p1) with p1 = ratio g / (ratio g + 1), g = p0 / (1 - p0) the comuna's own
# now/before ratio. The unit is flagged when its one-sided p-value is at most `alpha_star`;
# Benjamini-Hochberg with one true rise among m units flags it at alpha / m at worst
# (alpha_star = alpha / m, the conservative reading). The power sums, over n, P(n) times
# P(now >= the smallest significant count given n). docs/metodologia.md (M2.10) uses it to
# read the planted-trend recovery: the detection rate observed over seeds follows it.


def rise_detection_power(before_mean: float, ratio: float, p0: float, alpha_star: float) -> float:
    """Probability that the exact one-sided test flags a unit whose rate rose `ratio`-fold."""
    if before_mean <= 0 or ratio <= 0 or not 0 < p0 < 1:
        return 0.0
    g = p0 / (1 - p0)
    total_mean = before_mean * (1 + ratio * g)
    n = np.arange(0, int(stats.poisson.ppf(1 - 1e-9, total_mean)) + 2)
    weights = stats.poisson.pmf(n, total_mean)
    # smallest k with P(X >= k | n, p0) <= alpha_star (n + 1 when none: never flagged)
    k = stats.binom.isf(alpha_star, n, p0) + 1
    k = np.where(stats.binom.sf(k - 2, n, p0) <= alpha_star, k - 1, k)  # isf's off-by-one
    p1 = ratio * g / (ratio * g + 1)
    hit = np.where(k <= n, stats.binom.sf(k - 1, n, p1), 0.0)
    return float(np.sum(weights * hit))


def minimum_detectable_rise(
    before_mean: float, p0: float, alpha_star: float, *, power: float = 0.9, most: float = 50.0
) -> float | None:
    """Smallest rise (a ratio > 1) flagged with probability `power`; None above `most`."""
    if rise_detection_power(before_mean, most, p0, alpha_star) < power:
        return None
    low, high = 1.0, most
    for _ in range(40):  # bisection: the power grows with the ratio
        mid = (low + high) / 2
        if rise_detection_power(before_mean, mid, p0, alpha_star) >= power:
            high = mid
        else:
            low = mid
    return high
