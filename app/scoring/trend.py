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
