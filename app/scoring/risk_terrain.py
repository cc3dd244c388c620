"""Risk-terrain model (Caplan & Kennedy 2011, 2016; issue #17, item 2): the pure statistical core.

Which kinds of place raise the risk of crime around them, and by how much, estimated from
the comuna's own data on a grid of cells (app/scoring/grid_hotspots.py):

* features: for every layer (a factor type or context layer, points in metres) and band b
  (default 1, 2, 3 block lengths), two 0/1 operationalisations per cell centroid c:
  - proximidad: some point of the layer lies within b metres of c (a k-d tree query);
  - densidad: the layer's kernel density at c, with a quartic kernel of radius b
    (K(d) = 3 / (pi b^2) (1 - d^2/b^2)^2 for d < b, the kernel ArcGIS and so RTMDx use), is
    above its mean over the cells plus `DENSITY_SD` standard deviations (RTMDx's rule
    "density above the mean by k standard deviations"; here k = 1);
* step 1, selection: a Poisson model with an L1 penalty (statsmodels
  `GLM.fit_regularized(L1_wt=1)`, the intercept unpenalised) over a grid of penalties, the
  penalty chosen by k-fold cross-validation on the held-out Poisson deviance (folds drawn
  with the seed); of each layer's non-zero features only the one with the largest
  penalised coefficient is kept, as RTMDx keeps one operationalisation and band per factor;
* step 2, the model: a Poisson GLM on the kept features, reduced by backward elimination
  on BIC (RTMDx's second step); if the Cameron-Trivedi test finds over-dispersion
  (one-sided p < `DISPERSION_ALPHA`) the same steps use a negative binomial (NB2,
  statsmodels `NegativeBinomial`). Each retained layer's relative risk value is
  exp(beta) with its 95 % Wald interval and p-value;
* the risk terrain: per cell, exp(sum_k beta_k x_ck) (the relative risk score, 1 where no
  retained feature is present), and the cells ranked by it;
* validation: `pai_pei` (Chainey, Tompson & Uhlig 2008; Hunt 2016) on a later period.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any  # statsmodels results are untyped

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from scipy.spatial import cKDTree
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from app.scoring.errors import ScoringInputError, problem
from app.scoring.grid_hotspots import Grid
from app.scoring.pai import PAI_SHARES, cells_in_share, pai_pei

BLOCK_M = 100.0  # one block length (Chilean towns: ~100 m between street axes)
DEFAULT_BANDS_M: tuple[float, ...] = (BLOCK_M, 2 * BLOCK_M, 3 * BLOCK_M)
DENSITY_SD = 1.0  # densidad: above the mean of the cells by this many standard deviations
PROXIMITY = "proximidad"
DENSITY = "densidad"
DEFAULT_ALPHAS: tuple[float, ...] = (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
DEFAULT_FOLDS = 5
DISPERSION_ALPHA = 0.05
CI_LEVEL = 0.95


def _refuse(field: str, reason: str) -> ScoringInputError:
    return ScoringInputError(reason, errors=[problem(field, reason)])


def feature_name(layer: str, kind: str, band_m: float) -> str:
    return f"{layer}:{kind}:{band_m:g}m"


def _points(layer: str, xy: np.ndarray) -> np.ndarray:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if not np.isfinite(xy).all():
        raise _refuse("layers", f"La capa {layer} tiene coordenadas no finitas.")
    return xy


def _check_bands(bands_m: Sequence[float]) -> None:
    if not bands_m or any(not np.isfinite(b) or b <= 0 for b in bands_m):
        raise _refuse("bands_m", "Las bandas deben ser números positivos de metros.")


def cell_centres(cells: Grid | np.ndarray) -> np.ndarray:
    """The centroids of a grid's cells, or an (n, 2) array of centres as given."""
    raw = cells.centres if isinstance(cells, Grid) else cells
    return np.asarray(raw, dtype=float).reshape(-1, 2)


def proximity_features(
    cells: Grid | np.ndarray,
    layers: Mapping[str, np.ndarray],
    bands_m: Sequence[float] = DEFAULT_BANDS_M,
) -> pd.DataFrame:
    """0/1 per cell centre: a point of the layer within the band (distance <= band)."""
    _check_bands(bands_m)
    centres = cell_centres(cells)
    out: dict[str, np.ndarray] = {}
    for layer, xy in layers.items():
        pts = _points(layer, xy)
        nearest = cKDTree(pts).query(centres, k=1)[0] if len(pts) else np.full(len(centres), np.inf)
        for band in bands_m:
            out[feature_name(layer, PROXIMITY, band)] = (nearest <= band).astype(np.int8)
    return pd.DataFrame(out, index=pd.RangeIndex(len(centres)))


def quartic_density(centres: np.ndarray, xy: np.ndarray, radius_m: float) -> np.ndarray:
    """Points per m2 at each centre, quartic kernel of radius `radius_m` (see the module)."""
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    out = np.zeros(len(centres))
    if len(xy) == 0:
        return out
    pairs = cKDTree(centres).sparse_distance_matrix(cKDTree(xy), radius_m, output_type="ndarray")
    u2 = pairs["v"] ** 2 / radius_m**2
    np.add.at(out, pairs["i"], (1 - u2) ** 2)
    return out * 3 / (math.pi * radius_m**2)


def density_features(
    cells: Grid | np.ndarray,
    layers: Mapping[str, np.ndarray],
    bands_m: Sequence[float] = DEFAULT_BANDS_M,
    sd: float = DENSITY_SD,
) -> pd.DataFrame:
    """0/1 per cell centre: the layer's quartic density above mean + `sd` standard deviations
    (population sd over the cells); all 0 when the density is constant."""
    _check_bands(bands_m)
    centres = cell_centres(cells)
    out: dict[str, np.ndarray] = {}
    for layer, xy in layers.items():
        pts = _points(layer, xy)
        for band in bands_m:
            d = quartic_density(centres, pts, band)
            spread = d.std()
            flag = d > d.mean() + sd * spread if spread > 0 else np.zeros(len(d), bool)
            out[feature_name(layer, DENSITY, band)] = flag.astype(np.int8)
    return pd.DataFrame(out, index=pd.RangeIndex(len(centres)))


def rtm_features(
    cells: Grid | np.ndarray,
    layers: Mapping[str, np.ndarray],
    bands_m: Sequence[float] = DEFAULT_BANDS_M,
) -> pd.DataFrame:
    """Both operationalisations of every layer at every band, one column each."""
    return pd.concat(
        [proximity_features(cells, layers, bands_m), density_features(cells, layers, bands_m)],
        axis=1,
    )


def parse_feature(name: str) -> tuple[str, str, float]:
    """(layer, operationalisation, band in metres) of a column name."""
    layer, kind, band = name.rsplit(":", 2)
    return layer, kind, float(band.removesuffix("m"))


@dataclass(frozen=True)
class RiskTerrain:
    table: pd.DataFrame  # per retained layer (index): feature, operacionalizacion, banda_m,
    #                       beta, rr, ic_inf, ic_sup, p_valor; sorted by rr, highest first
    family: str  # "poisson" or "binomial_negativa"
    dispersion_z: float  # Cameron-Trivedi statistic on the Poisson fit of the step-1 features
    dispersion_p: float  # its one-sided p-value (over-dispersion)
    penalty: float  # the step-1 L1 penalty chosen by cross-validation
    cv_deviance: pd.Series  # penalty -> mean held-out Poisson deviance per cell
    selected: tuple[str, ...]  # step 1: at most one feature per layer
    intercept: float
    nb_alpha: float | None  # NB2 dispersion (variance mu + alpha mu^2), when negative binomial
    score: np.ndarray  # per cell: exp(sum of the retained betas of its features)
    seed: int

    def top_cells(self, share: float) -> np.ndarray:
        """Indices of the ceil(share * n) cells of highest score (ties: lower index first)."""
        return np.argsort(-self.score, kind="stable")[: cells_in_share(share, len(self.score))]


def _poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2 * np.sum(term - (y - mu)))


def _lasso(y: np.ndarray, x: np.ndarray, penalty: float, offset: np.ndarray) -> np.ndarray:
    """Penalised Poisson coefficients (intercept first, unpenalised)."""
    design = np.column_stack((np.ones(len(y)), x))
    weights = np.r_[0.0, np.full(x.shape[1], penalty)]
    model = sm.GLM(y, design, family=sm.families.Poisson(), offset=offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = model.fit_regularized(method="elastic_net", alpha=weights, L1_wt=1.0)
    return np.asarray(fit.params, dtype=float)


def penalty_grid(
    y: np.ndarray, x: np.ndarray, offset: np.ndarray, size: int = 8, ratio: float = 0.01
) -> np.ndarray:
    """From the smallest penalty that zeroes every feature (max |x'(y - mu0)| / n, the
    intercept-only Poisson model's score) down to `ratio` times it, log-spaced."""
    exposure = np.exp(offset)
    mu0 = exposure * y.sum() / exposure.sum()
    top = float(np.max(np.abs(x.T @ (y - mu0))) / len(y))
    return top * np.geomspace(1.0, ratio, size)


def cross_validate(
    y: np.ndarray,
    x: np.ndarray,
    penalties: np.ndarray,
    offset: np.ndarray,
    *,
    folds: int,
    seed: int,
) -> pd.Series:
    """Mean held-out Poisson deviance per cell for each penalty (folds drawn with `seed`)."""
    fold = np.random.default_rng(seed).permutation(len(y)) % folds
    out = np.zeros(len(penalties))
    for k in range(folds):
        train, test = fold != k, fold == k
        for i, penalty in enumerate(penalties):
            beta = _lasso(y[train], x[train], penalty, offset[train])
            mu = np.exp(offset[test] + beta[0] + x[test] @ beta[1:])
            out[i] += _poisson_deviance(y[test], mu)
    return pd.Series(out / len(y), index=penalties, name="devianza_cv")


def one_per_layer(names: Sequence[str], beta: np.ndarray) -> list[str]:
    """Of each layer's features with a non-zero coefficient, the one with the largest."""
    best: dict[str, tuple[float, str]] = {}
    for name, b in zip(names, beta, strict=True):
        if b == 0:
            continue
        layer = parse_feature(name)[0]
        if layer not in best or abs(b) > best[layer][0]:
            best[layer] = (abs(b), name)
    return sorted(name for _, name in best.values())


def dispersion_test(y: np.ndarray, mu: np.ndarray) -> tuple[float, float]:
    """Cameron & Trivedi (1990): regress ((y - mu)^2 - y) / mu on mu without intercept; the
    slope's t statistic and its one-sided p-value (alternative: variance mu + a mu^2, a > 0)."""
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
__all__ = ["PAI_SHARES", "pai_pei"]  # re-exported: the model's validation


def fit_count_model(y: np.ndarray, x: pd.DataFrame, family: str, offset: np.ndarray) -> Any:
    """The step-2 model on the given features plus an intercept (statsmodels results)."""
    design = sm.add_constant(x.astype(float), has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if family == POISSON:
            return sm.GLM(y, design, family=sm.families.Poisson(), offset=offset).fit()
        return NegativeBinomial(y, design, offset=offset).fit(disp=0, maxiter=500)


def bic(fit: Any) -> float:
    """-2 log L + k log n, k counting every estimated parameter (NB's alpha too)."""
    return float(-2 * fit.llf + len(fit.params) * math.log(fit.nobs))


def backward_bic(
    y: np.ndarray, x: pd.DataFrame, family: str, offset: np.ndarray
) -> tuple[list[str], Any]:
    """Drops, one at a time, the feature whose removal lowers BIC most, while one does."""
    kept = list(x.columns)
    fit = fit_count_model(y, x[kept], family, offset)
    while kept:
        trials = [
            (bic(f), name, f)
            for name in kept
            for f in [fit_count_model(y, x[[c for c in kept if c != name]], family, offset)]
        ]
        score, name, trial = min(trials, key=lambda t: (t[0], t[1]))
        if score >= bic(fit):
            break
        kept.remove(name)
        fit = trial
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
    penalties: Sequence[float] | None = None,
    folds: int = DEFAULT_FOLDS,
    exposure: np.ndarray | None = None,
) -> RiskTerrain:
    """RTM's two steps on cell counts and 0/1 features (see the module docstring).

    `exposure` (optional, per cell, e.g. residents): log(exposure) enters every model as an
    offset, so exp(beta) is a relative risk per unit of exposure; cells with exposure 0
    are left out of the fit (their score is still computed)."""
    y_all = _check_inputs(counts, features)
    keep = _exposed(exposure, len(y_all))
    offset = np.log(np.asarray(exposure, dtype=float)[keep]) if exposure is not None else None
    y = y_all[keep]
    offset = offset if offset is not None else np.zeros(len(y))
    varying = features.loc[keep].nunique() > 1
    x = features.loc[keep, varying].astype(float).reset_index(drop=True)
    grid = penalties if penalties is not None else penalty_grid(y, x.to_numpy(), offset)
    if x.shape[1] and y.sum() > 0:
        cv = cross_validate(y, x.to_numpy(), np.asarray(grid), offset, folds=folds, seed=seed)
        penalty = float(cv.idxmin())  # ties: the first, the largest penalty of the grid
        beta = _lasso(y, x.to_numpy(), penalty, offset)[1:]
        selected = one_per_layer(list(x.columns), beta)
    else:
        cv, penalty, selected = pd.Series(dtype=float, name="devianza_cv"), float("nan"), []
    poisson = fit_count_model(y, x[selected], POISSON, offset)
    mu = np.asarray(poisson.fittedvalues, dtype=float)
    z, p = dispersion_test(y, mu)
    family = NEGATIVE_BINOMIAL if p < DISPERSION_ALPHA else POISSON
    kept, fit = backward_bic(y, x[selected], family, offset)
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
        selected=tuple(selected),
        intercept=float(params["const"]),
        nb_alpha=float(params["alpha"]) if family == NEGATIVE_BINOMIAL else None,
        score=score,
        seed=seed,
    )
