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
from scipy import sparse, stats

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


# --- method 2: array forms (one column per bootstrap draw), binomial and spatial priors -------
#
# Every function below takes counts of shape (k,) or (k, B) -- k units, B bootstrap draws --
# and smooths each column on its own, so the observed ranking and its bootstrap run the very
# same code. tests/scoring/test_smoothing_v2.py checks them against esda on the observed data.


def poisson_eb(events: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Global Marshall EB of events/base per column: (smoothed, prior mean m, A clipped at 0).

    Units with base 0 get m (they are left out of m and A); a column whose A <= 0 (no
    variation beyond chance) gives m to every unit, as `empirical_bayes`.
    """
    e = _columns(events)
    n = np.broadcast_to(_columns(base), e.shape)
    if bool((_columns(base) > 0).all()):  # every unit has residents: the same numbers, unmasked
        return _poisson_eb_every_base(e, n, events)
    has = n > 0
    n_fit = np.where(has, n, 0.0)
    total_n = n_fit.sum(axis=0)
    m = e.sum(axis=0, where=has) / total_n
    crude = np.divide(e, n, out=np.zeros_like(e), where=has)
    spread = (n_fit * (crude - m) ** 2).sum(axis=0) / total_n
    mean_n = total_n / has.sum(axis=0)
    between = np.clip(spread - m / mean_n, 0.0, None)
    noise = np.divide(m, n, out=np.full_like(n, np.inf), where=has)
    with np.errstate(invalid="ignore", divide="ignore"):  # masked out by `has` below
        shrink = np.where(has & (between > 0), between / (between + noise), 0.0)
    smoothed = shrink * crude + (1.0 - shrink) * m
    return _back(smoothed, events), m, between


def _poisson_eb_every_base(
    e: np.ndarray, n: np.ndarray, events: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`poisson_eb` when no base is 0 (the bootstrap's common case): each operation as there,
    in the same order, without the masks and reusing buffers (a new units x draws array per
    operation cost more than the arithmetic); tests/scoring check both give the same doubles."""
    n_fit = np.ascontiguousarray(n)  # as np.where(has, n, 0.0): the same layout, same sums
    total_n = n_fit.sum(axis=0)
    m = e.sum(axis=0) / total_n
    crude = e / n
    work = np.subtract(crude, m)
    work **= 2
    work *= n_fit
    spread = work.sum(axis=0) / total_n
    between = np.clip(spread - m / (total_n / n.shape[0]), 0.0, None)
    shrink = np.divide(m, n, out=work)  # the noise m / n_i ...
    shrink += between
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 where A = 0 and m = 0: reset
        np.divide(between, shrink, out=shrink)  # ... then A / (A + m / n_i)
    shrink[:, ~(between > 0)] = 0.0
    smoothed = shrink * crude
    rest = np.subtract(1.0, shrink, out=shrink)
    rest *= m
    smoothed += rest
    return _back(smoothed, events), m, between


def binomial_eb(part: np.ndarray, whole: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EB of a proportion part/whole with the binomial variance m(1-m)/n (not Poisson's m/n).

    The method-of-moments analogue of Marshall's estimator for proportions (Kleinman 1973;
    the beta-binomial moment estimator): A = sum n_i (p_i - m)^2 / sum n_i - m(1-m)/mean(n),
    C_i = A / (A + m(1-m)/n_i). Units with no complaints at all get m.
    """
    v = _columns(part)
    t = np.broadcast_to(_columns(whole), v.shape)
    has = t > 0
    t_fit = np.where(has, t, 0.0)
    total = t_fit.sum(axis=0)
    safe_total = np.where(total > 0, total, 1.0)
    m = v.sum(axis=0, where=has) / safe_total
    crude = np.divide(v, t, out=np.zeros_like(v), where=has)
    spread = (t_fit * (crude - m) ** 2).sum(axis=0) / safe_total
    mean_t = safe_total / np.maximum(has.sum(axis=0), 1)
    variance = m * (1.0 - m)
    between = np.clip(spread - variance / mean_t, 0.0, None)
    noise = np.divide(variance, t, out=np.full_like(t, np.inf), where=has)
    with np.errstate(invalid="ignore", divide="ignore"):  # masked out by `has` below
        shrink = np.where(has & (between > 0), between / (between + noise), 0.0)
    smoothed = shrink * crude + (1.0 - shrink) * m
    return _back(smoothed, part), m, between


def spatial_poisson_eb(
    events: np.ndarray, base: np.ndarray, star: sparse.csr_array
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spatial EB (Marshall 1991; esda `Spatial_Empirical_Bayes`): the prior of unit i is the
    rate and variance of i with its contiguous neighbours (`star` = binary contiguity + I).

    Returns (smoothed, local prior mean per unit, local A per unit, clipped at 0). A unit
    whose neighbourhood has no residents gets the global rate.
    """
    e = _columns(events)
    n = np.broadcast_to(_columns(base), e.shape)
    has = n > 0
    crude = np.divide(e, n, out=np.zeros_like(e), where=has)
    local_n = np.broadcast_to(star @ _columns(base), e.shape)  # one column, not one per draw
    local_e = star @ e
    global_m = e.sum(axis=0) / n.sum(axis=0)
    m = np.divide(
        local_e, local_n, out=np.broadcast_to(global_m, e.shape).copy(), where=local_n > 0
    )
    count = np.asarray(star.sum(axis=1)).reshape(-1, 1)
    # sum_j s_ij n_j (x_j - m_i)^2 = S(n x^2) - 2 m_i S(n x) + m_i^2 S(n)
    spread = star @ (n * crude**2) - 2.0 * m * (star @ (n * crude)) + m**2 * local_n
    left = np.divide(spread, local_n, out=np.zeros_like(spread), where=local_n > 0)
    right = np.divide(m * count, local_n, out=np.zeros_like(m), where=local_n > 0)
    between = np.clip(left - right, 0.0, None)
    noise = np.divide(m, n, out=np.full_like(n, np.inf), where=has)
    with np.errstate(invalid="ignore", divide="ignore"):  # masked out by `has` below
        shrink = np.where(has & (between > 0), between / (between + noise), 0.0)
    smoothed = m + (crude - m) * shrink
    return _back(smoothed, events), _back(m, events), _back(between, events)


def gamma_interval(
    events: np.ndarray,
    base: np.ndarray,
    prior_mean: np.ndarray,
    between: np.ndarray,
    *,
    pooled: tuple[np.ndarray, np.ndarray] | None = None,
    level: float = 0.90,
) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed posterior interval of each unit's rate under the EB Gamma prior.

    The prior Gamma(a, b) has the EB mean m and variance A (a = m^2/A, b = m/A); with e events
    over n residents the posterior is Gamma(a + e, b + n) (Gamma-Poisson conjugacy). Where
    A = 0 the prior says the units it pools share one rate, and the interval is that of the
    pooled rate, Gamma(pooled e + 1/2, pooled n) (Jeffreys): the whole ranking's by default,
    each unit's neighbourhood under the spatial prior (`pooled` = star @ e, star @ n), so the
    interval is around the rate the unit was given.
    """
    e = np.asarray(events, dtype=float)
    n = np.asarray(base, dtype=float)
    pooled_e, pooled_n = pooled if pooled is not None else (e.sum(), n.sum())
    m = np.broadcast_to(np.asarray(prior_mean, dtype=float), e.shape)
    a_var = np.broadcast_to(np.asarray(between, dtype=float), e.shape)
    tail = (1.0 - level) / 2.0
    informative = (a_var > 0) & (m > 0)
    shape = np.where(informative, m**2 / np.where(informative, a_var, 1.0) + e, pooled_e + 0.5)
    rate = np.where(informative, m / np.where(informative, a_var, 1.0) + n, pooled_n)
    low = stats.gamma.ppf(tail, shape) / rate
    high = stats.gamma.ppf(1.0 - tail, shape) / rate
    return low, high


def _columns(values: np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array.reshape(-1, 1) if array.ndim == 1 else array


def _back(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    return values.ravel() if np.asarray(like).ndim == 1 else values
