"""The profiled Poisson fixed-effects fit equals statsmodels' GLM with one dummy per stratum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from app.scoring.poisson_fe import Strata, fit_poisson_fe


def _world(seed: int, n: int = 2500, strata: int = 30) -> tuple:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, strata, n)
    labels = np.array([f"B{k:03d}" for k in codes], dtype=object)
    x = pd.DataFrame((rng.random((n, 3)) < 0.25).astype(float), columns=["a", "b", "c"])
    offset = np.log(rng.gamma(2.0, 20.0, n))
    effect = rng.normal(0.0, 0.6, strata)
    mu = np.exp(offset - 4.0 + x.to_numpy() @ np.array([1.1, 0.4, 0.0]) + effect[codes])
    return rng.poisson(mu), x, labels, offset


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_equals_the_glm_with_dummies(seed: int) -> None:
    y, x, labels, offset = _world(seed)
    strata = Strata.of(labels, len(y))
    mine = fit_poisson_fe(y, x, strata, offset)
    design = pd.concat([x, strata.design()], axis=1)
    direct = sm.GLM(y, design, family=sm.families.Poisson(), offset=offset).fit(tol=1e-13)
    np.testing.assert_allclose(mine.params[design.columns], direct.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(mine.bse, direct.bse[x.columns], rtol=1e-7)
    np.testing.assert_allclose(mine.conf_int(), direct.conf_int().loc[x.columns], rtol=1e-7)
    np.testing.assert_allclose(mine.pvalues, direct.pvalues[x.columns], rtol=1e-6)
    np.testing.assert_allclose(mine.fittedvalues, direct.fittedvalues, rtol=1e-7)
    assert mine.llf == pytest.approx(direct.llf, rel=1e-12)
    assert len(mine.params) == len(direct.params)  # BIC counts the same parameters
    assert list(design.columns[3:]) == ["const", *(f"estrato_B{k:03d}" for k in range(1, 30))]


def test_a_stratum_without_events_has_mean_zero_and_the_others_are_unchanged() -> None:
    y, x, labels, offset = _world(4)
    y = y.copy()
    y[labels == "B007"] = 0
    strata = Strata.of(labels, len(y))
    mine = fit_poisson_fe(y, x, strata, offset)
    assert (mine.fittedvalues[labels == "B007"] == 0).all()
    # the same model without that stratum's cells: what the dummy GLM tends to
    keep = labels != "B007"
    rest = fit_poisson_fe(
        y[keep], x[keep].reset_index(drop=True), Strata.of(labels[keep], keep.sum()), offset[keep]
    )
    np.testing.assert_allclose(mine.params[x.columns], rest.params[x.columns], rtol=1e-9)
    np.testing.assert_allclose(mine.bse, rest.bse, rtol=1e-9)


def test_without_strata_it_is_the_glm_with_an_intercept() -> None:
    y, x, _, offset = _world(5)
    mine = fit_poisson_fe(y, x, Strata.of(None, len(y)), offset)
    direct = sm.GLM(y, sm.add_constant(x), family=sm.families.Poisson(), offset=offset).fit(
        tol=1e-13
    )
    np.testing.assert_allclose(
        mine.params[["a", "b", "c", "const"]], direct.params[["a", "b", "c", "const"]], rtol=1e-7
    )
    no_features = fit_poisson_fe(y, x.iloc[:, :0], Strata.of(None, len(y)), offset)
    assert no_features.params["const"] == pytest.approx(np.log(y.sum() / np.exp(offset).sum()))
