"""Global empirical-Bayes rates (Marshall 1991), computed by `esda.smoothing.Empirical_Bayes`.

A micro-barrio of 450 residents with 3 robberies has a crude rate of 6.7 per 1,000; with 6 it
has 13.3. Such jumps are noise, not risk. Marshall's estimator shrinks each crude rate x_i
towards the mean of all units, m = sum(e) / sum(n), by the weight

    C_i = A / (A + m / n_i),   A = sum(n_i (x_i - m)^2) / sum(n_i) - m / mean(n),

so r_i = C_i x_i + (1 - C_i) m: small units move a lot, large ones hardly at all. A is the
method-of-moments estimate of the between-unit variance; when it is <= 0 the data show no
variation beyond chance and, following Marshall, every unit gets m (C_i = 0). esda does not
clip A, so that case is handled here.

Units with no population (0 or unknown) have no rate: they are left out of the fit and get m,
the estimate that knows nothing about them (the limit of C_i as n_i -> 0), with `imputed`
set so the output can say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from esda.smoothing import Empirical_Bayes

from app.scoring.errors import ScoringInputError

PER_THOUSAND = 1000.0


@dataclass(frozen=True)
class SmoothedRates:
    """Crude and smoothed rates per unit, with what it takes to explain the smoothing."""

    crude: pd.Series  # events / base * per; NaN where the base is 0
    smoothed: pd.Series
    shrinkage: pd.Series  # C_i, the weight of the unit's own crude rate
    imputed: pd.Series  # True where the base is 0 and the rate is the global mean
    prior_mean: float  # m, in the same unit as the rates
    between_variance: float  # A (clipped at 0), in (events / base)^2
    per: float


def empirical_bayes(
    events: pd.Series, base: pd.Series, *, per: float = PER_THOUSAND
) -> SmoothedRates:
    """Smoothed rate of `events` over `base` (residents, or complaints for a share) times `per`."""
    events = events.astype(float)
    base = base.reindex(events.index).astype(float).fillna(0.0)
    has_base = base > 0
    if not has_base.any():
        raise ScoringInputError(
            "ninguna unidad tiene población (o denuncias) sobre la cual calcular una tasa"
        )
    e, n = events[has_base].to_numpy(), base[has_base].to_numpy()
    prior_mean = float(e.sum() / n.sum())
    crude_fit = e / n
    between = _between_variance(crude_fit, n, prior_mean)
    if prior_mean == 0.0 or between <= 0.0:
        fitted = np.full_like(crude_fit, prior_mean)
        shrink = np.zeros_like(crude_fit)
    else:
        fitted = Empirical_Bayes(e, n).r.ravel()
        shrink = between / (between + prior_mean / n)
    index = events.index
    mask = has_base.to_numpy()
    smoothed = np.full(len(index), prior_mean)  # units without a base get the prior mean
    smoothed[mask] = fitted
    shrinkage = np.zeros(len(index))
    shrinkage[mask] = shrink
    crude = (events / base.where(has_base)) * per
    return SmoothedRates(
        crude=crude,
        smoothed=pd.Series(smoothed, index=index) * per,
        shrinkage=pd.Series(shrinkage, index=index),
        imputed=~has_base,
        prior_mean=prior_mean * per,
        between_variance=max(between, 0.0),
        per=per,
    )


def _between_variance(crude: np.ndarray, base: np.ndarray, mean: float) -> float:
    """Marshall's method-of-moments A; the same expression esda uses before weighting."""
    spread = float((base * (crude - mean) ** 2).sum() / base.sum())
    return spread - mean / float(base.mean())
