"""A Poisson GLM with one set of fixed effects, fitted by profiling them out (pure).

The risk-terrain model (app/scoring/risk_terrain.py) gives every stratum (micro-barrio)
its own intercept. Fitted as a GLM with one 0/1 column per stratum, each IRLS step solves a
least-squares problem of n cells x (features + strata) columns: for a regional comuna's
37,823 cells and 192 micro-barrios, 45 s a fit and over 300 s a model (docs/benchmarks.md).
For the Poisson likelihood the intercepts have a closed form given the other coefficients,
alpha_g(beta) = log(sum_g y / sum_g exp(x'beta + offset)), so the model is fitted by
Newton's method on the profile log-likelihood of beta alone:

* gradient X'(y - mu), Hessian -(X~' W X~), X~ the features minus their mu-weighted mean
  in each stratum and W = diag(mu): the beta block of the full model's information matrix
  (Frisch-Waugh-Lovell), so the estimates, their Wald standard errors, intervals, p-values
  and the log-likelihood are those of the GLM with dummies (a test checks them against
  statsmodels), at O(n p) a step;
* a stratum without events has alpha = -inf and fitted values 0 (the dummy GLM drives its
  coefficient towards -inf; its other estimates are the same in the limit);
* parameter names follow the dummy design: "const" is the first stratum's intercept (labels
  in sorted order), "estrato_<label>" the others' differences to it; `len(params)` counts
  every estimated parameter, as BIC needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

TOLERANCE = 1e-10  # largest Newton step in beta at convergence
MAX_ITERATIONS = 100


@dataclass(frozen=True)
class Strata:
    """Cells' stratum codes (0..G-1, labels in sorted order); one stratum without strata."""

    codes: np.ndarray
    labels: tuple[str, ...]

    @classmethod
    def of(cls, labels: np.ndarray | None, n: int) -> Strata:
        if labels is None:
            return cls(np.zeros(n, dtype=np.int64), ("",))
        values = pd.Series(labels, dtype=str)
        names, codes = np.unique(values.to_numpy(), return_inverse=True)
        return cls(codes.astype(np.int64), tuple(str(v) for v in names))

    @property
    def size(self) -> int:
        return len(self.labels)

    def design(self) -> pd.DataFrame:
        """The intercept and one 0/1 column per stratum but the first (the dummy design)."""
        base = pd.DataFrame({"const": np.ones(len(self.codes))})
        dummies = {
            f"estrato_{label}": (self.codes == g).astype(float)
            for g, label in enumerate(self.labels)
            if g > 0
        }
        return pd.concat([base, pd.DataFrame(dummies)], axis=1)

    def names(self) -> list[str]:
        return ["const", *(f"estrato_{label}" for label in self.labels[1:])]


@dataclass(frozen=True)
class PoissonFE:
    params: pd.Series  # features, then "const" and the strata's differences
    bse: pd.Series  # standard errors of the features
    llf: float
    nobs: int
    fittedvalues: np.ndarray
    iterations: int

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        z = stats.norm.ppf(1 - alpha / 2)
        beta = self.params[self.bse.index]
        return pd.DataFrame({0: beta - z * self.bse, 1: beta + z * self.bse})

    @property
    def pvalues(self) -> pd.Series:
        z = np.abs(self.params[self.bse.index] / self.bse)
        return pd.Series(2 * stats.norm.sf(z), index=self.bse.index)


def _profile(
    beta: np.ndarray, x: np.ndarray, offset: np.ndarray, strata: Strata, events: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The strata's intercepts given beta, and the fitted means."""
    eta = offset + x @ beta
    top = np.full(strata.size, -np.inf)
    np.maximum.at(top, strata.codes, eta)
    scaled = np.bincount(
        strata.codes, weights=np.exp(eta - top[strata.codes]), minlength=strata.size
    )
    with np.errstate(divide="ignore"):
        alpha = np.log(events) - np.log(scaled) - top
    lived = events[strata.codes] > 0
    mu = np.zeros(len(eta))
    mu[lived] = np.exp(eta[lived] + alpha[strata.codes[lived]])
    return alpha, mu


def _loglik(y: np.ndarray, mu: np.ndarray, constant: float) -> float:
    positive = y > 0
    return float(np.sum(y[positive] * np.log(mu[positive])) - mu.sum() - constant)


def _information(x: np.ndarray, mu: np.ndarray, strata: Strata) -> np.ndarray:
    """X~' W X~ with X~ = X minus its mu-weighted mean per stratum."""
    weight = np.bincount(strata.codes, weights=mu, minlength=strata.size)
    sums = np.stack(
        [
            np.bincount(strata.codes, weights=mu * x[:, k], minlength=strata.size)
            for k in range(x.shape[1])
        ],
        axis=1,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.where(weight[:, None] > 0, sums / weight[:, None], 0.0)
    centred = x - means[strata.codes]
    return (centred * mu[:, None]).T @ centred


def fit_poisson_fe(
    y: np.ndarray,
    x: pd.DataFrame,
    strata: Strata,
    offset: np.ndarray,
    start: pd.Series | None = None,
) -> PoissonFE:
    """The Poisson GLM log mu = offset + x'beta + alpha_stratum (see the module docstring)."""
    y = np.asarray(y, dtype=float)
    features = x.to_numpy(dtype=float)
    p = features.shape[1]
    beta = np.zeros(p) if start is None else start.reindex(x.columns).fillna(0.0).to_numpy(float)
    events = np.bincount(strata.codes, weights=y, minlength=strata.size)
    constant = float(special.gammaln(y + 1).sum())
    alpha, mu = _profile(beta, features, offset, strata, events)
    llf = _loglik(y, mu, constant)
    iterations = 0
    information = np.zeros((p, p))
    while p and iterations < MAX_ITERATIONS:
        iterations += 1
        information = _information(features, mu, strata)
        step = np.linalg.solve(information, features.T @ (y - mu))
        for _ in range(30):  # step halving: the profile likelihood must not fall
            trial = beta + step
            alpha_t, mu_t = _profile(trial, features, offset, strata, events)
            llf_t = _loglik(y, mu_t, constant)
            if llf_t >= llf - 1e-12 * abs(llf):
                break
            step = step / 2
        beta, alpha, mu, llf = trial, alpha_t, mu_t, llf_t
        if np.max(np.abs(step)) < TOLERANCE:
            break
    if p:
        information = _information(features, mu, strata)
    bse = np.sqrt(np.diag(np.linalg.inv(information))) if p else np.zeros(0)
    effects = [alpha[0], *(alpha[1:] - alpha[0])]
    params = pd.Series([*beta, *effects], index=[*x.columns, *strata.names()], dtype=float)
    return PoissonFE(
        params=params,
        bse=pd.Series(bse, index=list(x.columns), dtype=float),
        llf=llf if math.isfinite(llf) else float("nan"),
        nobs=len(y),
        fittedvalues=mu,
        iterations=iterations,
    )
