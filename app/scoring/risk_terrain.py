"""Risk-terrain model (Caplan & Kennedy 2011, 2016; issue #17, item 2): the pure statistical core.

Which kinds of place raise the risk of crime around them, and by how much, estimated from
the comuna's own data on a grid of cells (app/scoring/grid_hotspots.py):

* features (app/scoring/rtm_features.py): for every layer (a factor type or context
  layer, points in metres) and band b (default 1, 2, 3 block lengths), two 0/1
  operationalisations per cell centroid c:
  - proximidad: some point of the layer lies within b metres of c (a k-d tree query);
  - densidad: the layer's kernel density at c, with a quartic kernel of radius b
    (K(d) = 3 / (pi b^2) (1 - d^2/b^2)^2 for d < b, the kernel ArcGIS and so RTMDx use), is
    above its mean over the cells plus `DENSITY_SD` standard deviations (RTMDx's rule
    "density above the mean by k standard deviations"; here k = 1);
* step 1a, one band per factor (RTMDx): of each layer's features, the one with the largest
  positive Rao score statistic against the Poisson GLM of the intercept, strata and offset
  (the feature that would most improve that model);
* step 1b, selection: a Poisson model with an L1 penalty over those candidates (glum's
  `GeneralizedLinearRegressorCV`, 20 penalties, k folds drawn with the seed, chosen on the
  held-out deviance); the candidates with a positive coefficient go on;
* step 2, the model: a Poisson GLM on them plus the strata's fixed effects (fitted with the
  fixed effects profiled out: app/scoring/poisson_fe.py, the numbers of the GLM with one
  dummy per stratum), reduced by backward elimination on BIC (RTMDx's second step); if the
  Cameron-Trivedi test finds
  over-dispersion (one-sided p < `DISPERSION_ALPHA`) the same steps use a negative
  binomial (NB2, statsmodels `NegativeBinomial`). Each retained layer's relative risk
  value is exp(beta) with its 95 % Wald interval and p-value.

  Why one band per layer before the penalty, and the strata: the bands and the two
  operationalisations of one layer are strongly correlated, so a penalty over all of them
  keeps whichever wins a noisy race (often a 200 m density for a 100 m effect), and the RR
  then reported is of another variable than the one that acts; and a unit whose residents
  run a higher risk for reasons no layer names (an elevated micro-barrio) lends its excess
  to whatever layers lie in it. On the demo's planted truth (bench/risk_terrain_recovery.py)
  these two changes took the planted RR inside the 95 % interval from 13/20 to 19-20/20
  seeds and the types without effect retained from 19 % to about 1 %;
* the risk terrain: per cell, exp(sum_k beta_k x_ck) (the relative risk score, 1 where no
  retained feature is present), and the cells ranked by it;
* validation: `pai_pei` (Chainey, Tompson & Uhlig 2008; Hunt 2016) on a later period.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any  # statsmodels results are untyped

import numpy as np
import pandas as pd
import statsmodels.api as sm
from glum import GeneralizedLinearRegressorCV
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from app.scoring.errors import ScoringInputError, problem
from app.scoring.pai import PAI_SHARES, cells_in_share, pai_pei
from app.scoring.poisson_fe import Strata, fit_poisson_fe
from app.scoring.rtm_features import (
    BLOCK_M,
    DEFAULT_BANDS_M,
    DENSITY,
    DENSITY_SD,
    PROXIMITY,
    density_features,
    feature_name,
    parse_feature,
    proximity_features,
    quartic_density,
    rtm_features,
)

N_ALPHAS = 20  # the L1 path: 20 penalties from the one that zeroes everything down
MIN_ALPHA_RATIO = 1e-3  # to a thousandth of it
DEFAULT_FOLDS = 5
DISPERSION_ALPHA = 0.05
CI_LEVEL = 0.95


def _refuse(field: str, reason: str) -> ScoringInputError:
    return ScoringInputError(reason, errors=[problem(field, reason)])


@dataclass(frozen=True)
class RiskTerrain:
    table: pd.DataFrame  # per retained layer (index): feature, operacionalizacion, banda_m,
    #                       beta, rr, ic_inf, ic_sup, p_valor; sorted by rr, highest first
    family: str  # "poisson" or "binomial_negativa"
    dispersion_z: float  # Cameron-Trivedi statistic on the Poisson fit of the step-1 features
    dispersion_p: float  # its one-sided p-value (over-dispersion)
    penalty: float  # the step-1b L1 penalty chosen by cross-validation (glum's alpha)
    cv_deviance: pd.Series  # penalty -> mean held-out Poisson deviance (glum's path)
    candidates: tuple[str, ...]  # step 1a: the best band and operationalisation per layer
    selected: tuple[str, ...]  # step 1b: the candidates the cross-validated L1 path keeps
    intercept: float
    nb_alpha: float | None  # NB2 dispersion (variance mu + alpha mu^2), when negative binomial
    score: np.ndarray  # per cell: exp(sum of the retained betas of its features)
    seed: int

    def top_cells(self, share: float) -> np.ndarray:
        """Indices of the ceil(share * n) cells of highest score (ties: lower index first)."""
        return np.argsort(-self.score, kind="stable")[: cells_in_share(share, len(self.score))]


def _select_alpha_path(
    y: np.ndarray, x: np.ndarray, offset: np.ndarray, folds: int, seed: int
) -> Any:
    """glum's cross-validated L1 Poisson path."""
    fold_of = np.random.default_rng(seed).permutation(len(y)) % folds
    splits = [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in range(folds)]
    model = GeneralizedLinearRegressorCV(
        family="poisson",
        l1_ratio=1.0,
        n_alphas=N_ALPHAS,
        min_alpha_ratio=MIN_ALPHA_RATIO,
        cv=splits,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x, y, offset=offset)
    return model


def score_statistics(
    y: np.ndarray, x: pd.DataFrame, strata: Strata, offset: np.ndarray
) -> pd.Series:
    """Rao's score statistic of each feature added alone to the Poisson GLM of the strata
    (intercepts) and offset: U^2 / V, U = x'(y - mu0) and V = x'W x - x'W Z (Z'W Z)^-1 Z'W x
    (W = mu0, Z the strata's indicators, so the projection is the mu0-weighted mean of x in
    each stratum), signed by U. One base fit for every feature (the likelihood-ratio test of
    each feature would refit the base once per feature: a hundred fits for Lanco's layers)."""
    fit = fit_count_model(y, x.iloc[:, :0], POISSON, offset, strata)
    mu = np.asarray(fit.fittedvalues, dtype=float)
    xs = x.to_numpy(dtype=float)
    u = xs.T @ (y - mu)
    weight = np.bincount(strata.codes, weights=mu, minlength=strata.size)
    projected = np.zeros(xs.shape[1])
    for k in range(xs.shape[1]):
        sums = np.bincount(strata.codes, weights=mu * xs[:, k], minlength=strata.size)
        projected[k] = np.sum(np.divide(sums**2, weight, out=np.zeros_like(sums), where=weight > 0))
    v = (xs**2 * mu[:, None]).sum(axis=0) - projected
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(v > 1e-12, np.sign(u) * u**2 / v, 0.0)
    return pd.Series(stat, index=x.columns)


def best_band_per_layer(
    y: np.ndarray, x: pd.DataFrame, strata: Strata, offset: np.ndarray
) -> list[str]:
    """Of each layer's features, the one with the largest positive score statistic
    (`score_statistics`): RTMDx's one operationalisation and band per factor; a protective
    place (negative score) is not a risk factor."""
    best: dict[str, tuple[float, str]] = {}
    for name, stat in score_statistics(y, x, strata, offset).items():
        if stat <= 0:
            continue
        layer = parse_feature(str(name))[0]
        if layer not in best or stat > best[layer][0]:
            best[layer] = (float(stat), str(name))
    return sorted(name for _, name in best.values())


def dispersion_test(y: np.ndarray, mu: np.ndarray) -> tuple[float, float]:
    """Cameron & Trivedi (1990): regress ((y - mu)^2 - y) / mu on mu without intercept; the
    slope's t statistic and its one-sided p-value (alternative: variance mu + a mu^2, a > 0)."""
    fitted = mu > 0  # a stratum without events has mean 0 and says nothing of dispersion
    y, mu = y[fitted], mu[fitted]
    aux = sm.OLS(((y - mu) ** 2 - y) / mu, mu).fit()
    t = float(aux.tvalues[0])
    return t, float(stats.t.sf(t, aux.df_resid))


POISSON = "poisson"
NEGATIVE_BINOMIAL = "binomial_negativa"
_TABLE_COLUMNS = (
    "feature",
    "operacionalizacion",
    "banda_m",
    "beta",
    "rr",
    "ic_inf",
    "ic_sup",
    "p_valor",
)
__all__ = [  # re-exported: the model's validation and variables
    "BLOCK_M",
    "DEFAULT_BANDS_M",
    "DENSITY",
    "DENSITY_SD",
    "PAI_SHARES",
    "PROXIMITY",
    "density_features",
    "feature_name",
    "pai_pei",
    "proximity_features",
    "quartic_density",
    "rtm_features",
]


def fit_count_model(
    y: np.ndarray,
    x: pd.DataFrame,
    family: str,
    offset: np.ndarray,
    strata: Strata,
    start: pd.Series | None = None,
) -> Any:
    """The step-2 model: the given features plus the strata's intercepts. Poisson: profiled
    (app/scoring/poisson_fe.py: the GLM with dummies' numbers, at O(n p) a step instead of
    O(n (p + strata)^2)); negative binomial: statsmodels' `NegativeBinomial` on the dummy
    design. `start`: starting values by name (a trial of the BIC elimination starts from the
    model it drops a feature from)."""
    if family == POISSON:
        return fit_poisson_fe(y, x.astype(float), strata, offset, start)
    design = pd.concat([x.astype(float), strata.design()], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        nb = NegativeBinomial(y, design, offset=offset)
        first = None if start is None else start.reindex([*design.columns, "alpha"]).to_numpy()
        return nb.fit(start_params=first, disp=0, maxiter=500)


def bic(fit: Any) -> float:
    """-2 log L + k log n, k counting every estimated parameter (NB's alpha too)."""
    return float(-2 * fit.llf + len(fit.params) * math.log(fit.nobs))


def backward_bic(
    y: np.ndarray, x: pd.DataFrame, family: str, offset: np.ndarray, strata: Strata
) -> tuple[list[str], Any]:
    """Drops, one at a time, the feature whose removal lowers BIC most, while one does."""
    kept = list(x.columns)
    fit = fit_count_model(y, x[kept], family, offset, strata)
    start = fit
    while kept:
        params = pd.Series(fit.params)
        trials = [
            (bic(f), name)
            for name in kept
            for f in [
                fit_count_model(
                    y, x[[c for c in kept if c != name]], family, offset, strata, params.drop(name)
                )
            ]
        ]
        score, name = min(trials)
        if score >= bic(fit):
            break
        kept.remove(name)
        fit = fit_count_model(y, x[kept], family, offset, strata, params.drop(name))
    if fit is not start:  # the reported model from its default start, as a direct fit would be
        fit = fit_count_model(y, x[kept], family, offset, strata)
    return kept, fit


def _table(fit: Any, kept: Sequence[str]) -> pd.DataFrame:
    params = pd.Series(fit.params)
    ci = pd.DataFrame(fit.conf_int(alpha=1 - CI_LEVEL))
    pvalues = pd.Series(fit.pvalues)
    rows = []
    for name in kept:
        layer, kind, band = parse_feature(name)
        beta = float(params[name])
        low, high = (float(v) for v in ci.loc[name])
        rows.append(
            (
                layer,
                name,
                kind,
                band,
                beta,
                math.exp(beta),
                math.exp(low),
                math.exp(high),
                float(pvalues[name]),
            )
        )
    table = pd.DataFrame(rows, columns=["capa", *_TABLE_COLUMNS]).set_index("capa")
    return table.sort_values(["rr", "feature"], ascending=[False, True])


def _check_inputs(counts: np.ndarray, features: pd.DataFrame) -> np.ndarray:
    y = np.asarray(counts, dtype=float)
    if y.ndim != 1 or len(y) != len(features):
        raise _refuse("counts", f"Se esperaban {len(features)} conteos, uno por celda.")
    if len(y) == 0 or not np.isfinite(y).all() or (y < 0).any() or (y != np.round(y)).any():
        raise _refuse("counts", "Los conteos deben ser enteros no negativos, al menos uno.")
    values = features.to_numpy()
    if not np.isin(values, (0, 1)).all():
        raise _refuse("features", "Las variables del terreno de riesgo deben valer 0 o 1.")
    return y


def _exposed(exposure: np.ndarray | None, n: int) -> np.ndarray:
    if exposure is None:
        return np.ones(n, dtype=bool)
    e = np.asarray(exposure, dtype=float)
    if e.shape != (n,) or not np.isfinite(e).all() or (e < 0).any() or not (e > 0).any():
        raise _refuse("exposure", f"Se esperaban {n} exposiciones no negativas, una por celda.")
    return e > 0


def fit_rtm(
    counts: np.ndarray,
    features: pd.DataFrame,
    seed: int,
    *,
    folds: int = DEFAULT_FOLDS,
    exposure: np.ndarray | None = None,
    strata: np.ndarray | None = None,
) -> RiskTerrain:
    """RTM's two steps on cell counts and 0/1 features (see the module docstring).

    `exposure` (optional, per cell, e.g. residents): log(exposure) enters every model as an
    offset, so exp(beta) is a relative risk per unit of exposure; cells with exposure 0
    are left out of the fit (their score is still computed). `strata` (optional, per cell,
    e.g. the micro-barrio): one fixed effect each in every model, so a unit whose residents
    run a higher risk for reasons no layer names does not lend it to the layers that happen
    to lie in it.

    One BLAS/OpenMP thread: the hundred small least-squares solves of the fits ran ten
    times slower with threads contending for a busy machine's cores."""
    with threadpool_limits(limits=1):
        return _fit_rtm(counts, features, seed, folds=folds, exposure=exposure, strata=strata)


def _fit_rtm(
    counts: np.ndarray,
    features: pd.DataFrame,
    seed: int,
    *,
    folds: int,
    exposure: np.ndarray | None,
    strata: np.ndarray | None,
) -> RiskTerrain:
    y_all = _check_inputs(counts, features)
    keep = _exposed(exposure, len(y_all))
    offset = np.log(np.asarray(exposure, dtype=float)[keep]) if exposure is not None else None
    y = y_all[keep]
    offset = offset if offset is not None else np.zeros(len(y))
    units = Strata.of(_strata(strata, keep) if strata is not None else None, len(y))
    varying = features.loc[keep].nunique() > 1
    x = features.loc[keep, varying].astype(float).reset_index(drop=True)
    candidates = best_band_per_layer(y, x, units, offset) if y.sum() > 0 else []
    if candidates:
        path = _select_alpha_path(y, x[candidates].to_numpy(), offset, folds, seed)
        penalty = float(path.alpha_)
        alphas = np.asarray(path.alphas_).ravel()
        cv = pd.Series(
            np.asarray(path.deviance_path_).reshape(-1, len(alphas)).mean(axis=0),
            index=alphas,
            name="devianza_cv",
        )
        selected = [n for n, b in zip(candidates, path.coef_, strict=True) if b > 0]
    else:
        cv, penalty, selected = pd.Series(dtype=float, name="devianza_cv"), float("nan"), []
    poisson = fit_count_model(y, x[selected], POISSON, offset, units)
    mu = np.asarray(poisson.fittedvalues, dtype=float)
    z, p = dispersion_test(y, mu)
    family = NEGATIVE_BINOMIAL if p < DISPERSION_ALPHA else POISSON
    kept, fit = backward_bic(y, x[selected], family, offset, units)
    table = _table(fit, kept)
    params = pd.Series(fit.params)
    linear = features[kept].to_numpy(dtype=float) @ params[kept].to_numpy()
    score = np.exp(linear) if kept else np.ones(len(y_all))
    return RiskTerrain(
        table=table,
        family=family,
        dispersion_z=z,
        dispersion_p=p,
        penalty=penalty,
        cv_deviance=cv,
        candidates=tuple(candidates),
        selected=tuple(selected),
        intercept=float(params["const"]),
        nb_alpha=float(params["alpha"]) if family == NEGATIVE_BINOMIAL else None,
        score=score,
        seed=seed,
    )


def _strata(strata: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The labels of the fitted cells (a cell nobody lives in may have none)."""
    labels = np.asarray(strata, dtype=object)
    if labels.shape != keep.shape or any(v is None or v == "" for v in labels[keep]):
        raise _refuse(
            "strata", f"Se esperaban {len(keep)} estratos (unidad de cada celda), sin vacíos."
        )
    return labels[keep]
