"""Method 2's statistics against the libraries called directly on the same input (issue #16)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from esda import G_Local, Moran_Local
from esda.smoothing import Empirical_Bayes, Spatial_Empirical_Bayes
from libpysal.weights import W
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.rates import test_poisson_2indep as poisson_2indep_test

from app.scoring import contiguity_weights, empirical_bayes
from app.scoring.dispersion import (
    SignalTest,
    across_variables,
    binomial_dispersion,
    poisson_dispersion,
)
from app.scoring.hotspots import HotSpotParams, high_high_hot_spots
from app.scoring.multiple import benjamini_hochberg, holm
from app.scoring.smoothing import binomial_eb, gamma_interval, poisson_eb, spatial_poisson_eb
from app.scoring.trend import rate_ratio_trend
from app.scoring.uncertainty import gi_star_z
from app.scoring.variables_v2 import star_matrix


def _lanco(lanco_micro: tuple[pd.Series, pd.Series]) -> tuple[pd.Series, W]:
    population, geometry = lanco_micro
    return population.astype(float), contiguity_weights(geometry)


def test_poisson_eb_is_esda_empirical_bayes_column_by_column(lanco_micro) -> None:
    population, _ = _lanco(lanco_micro)
    rng = np.random.default_rng(1)
    events = rng.poisson(population.to_numpy() * rng.uniform(0.005, 0.05, len(population)))
    events2 = rng.poisson(population.to_numpy() * 0.02)
    both = np.column_stack([events, events2]).astype(float)

    smoothed, _, between = poisson_eb(both, population.to_numpy())

    reference = Empirical_Bayes(events, population.to_numpy()).r.ravel()
    assert between[0] > 0  # the case where esda applies unchanged
    np.testing.assert_allclose(smoothed[:, 0], reference, rtol=1e-12)
    if between[1] > 0:
        np.testing.assert_allclose(
            smoothed[:, 1], Empirical_Bayes(events2, population.to_numpy()).r.ravel()
        )
    else:  # A <= 0: Marshall gives every unit the mean (esda does not clip)
        np.testing.assert_allclose(smoothed[:, 1], events2.sum() / population.sum())


def test_spatial_eb_is_esda_spatial_empirical_bayes(lanco_micro) -> None:
    population, weights = _lanco(lanco_micro)
    rng = np.random.default_rng(2)
    events = rng.poisson(population.to_numpy() * rng.uniform(0.005, 0.06, len(population)))
    binary = W(weights.neighbors, id_order=list(population.index), silence_warnings=True)
    binary.transform = "B"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reference = Spatial_Empirical_Bayes(events, population.to_numpy(), binary).r.ravel()
    smoothed, _, _ = spatial_poisson_eb(
        events.astype(float), population.to_numpy(), star_matrix(weights, list(population.index))
    )

    np.testing.assert_allclose(smoothed, reference, rtol=1e-10)


def test_binomial_eb_uses_the_binomial_variance() -> None:
    part = np.array([2.0, 9.0, 1.0, 30.0, 4.0])
    whole = np.array([10.0, 20.0, 8.0, 60.0, 9.0])

    smoothed, m, between = binomial_eb(part, whole)

    # the estimator written out unit by unit (Kleinman 1973, method of moments)
    mean = part.sum() / whole.sum()
    crude = part / whole
    a = (whole * (crude - mean) ** 2).sum() / whole.sum() - mean * (1 - mean) / whole.mean()
    expected = [
        (a / (a + mean * (1 - mean) / n)) * p + (1 - a / (a + mean * (1 - mean) / n)) * mean
        for p, n in zip(crude, whole, strict=True)
    ]
    assert m == pytest.approx(mean)
    assert between == pytest.approx(a)
    np.testing.assert_allclose(smoothed, expected)
    # with the Poisson variance (m/n, method 1) these shares show no variation at all (A < 0)
    poisson = empirical_bayes(pd.Series(part), pd.Series(whole), per=1.0)
    assert poisson.between_variance == 0.0
    assert np.ptp(poisson.smoothed) == 0.0
    assert np.ptp(smoothed) > 0.05


def test_gamma_interval_is_scipy_gamma_interval() -> None:
    events, base = np.array([3.0, 10.0]), np.array([500.0, 1200.0])
    m, a = 0.01, 2e-5

    low, high = gamma_interval(events, base, m, a)

    shape, rate = m**2 / a + events, m / a + base
    ref_low, ref_high = stats.gamma.interval(0.90, shape, scale=1 / rate)
    np.testing.assert_allclose(low, ref_low)
    np.testing.assert_allclose(high, ref_high)


def test_dispersion_statistics_are_scipys_and_the_p_values_agree_for_large_counts() -> None:
    rng = np.random.default_rng(3)
    base = rng.integers(500, 3000, 12).astype(float)
    events = rng.poisson(base * 0.2).astype(float)  # large counts: the chi-square law holds

    result = poisson_dispersion(events, base)

    expected = base / base.sum() * events.sum()
    reference = stats.chisquare(events, expected)
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue, abs=0.04)

    part = rng.binomial(base.astype(int), 0.3).astype(float)
    share = binomial_dispersion(part, base)
    table = np.vstack([part, base - part])
    contingency = stats.chi2_contingency(table, correction=False)
    assert share.statistic == pytest.approx(contingency.statistic)
    assert share.p_value == pytest.approx(contingency.pvalue, abs=0.04)


def test_dispersion_tests_find_planted_variation_and_hold_their_level_in_the_null() -> None:
    rng = np.random.default_rng(4)
    base = rng.integers(300, 1500, 19).astype(float)
    null_rejections = sum(
        poisson_dispersion(rng.poisson(base * 0.01).astype(float), base, draws=499).signal
        for _ in range(200)
    )
    relative_risk = np.ones(19)
    relative_risk[:3] = 3.0
    found = sum(
        poisson_dispersion(rng.poisson(base * 0.01 * relative_risk).astype(float), base).signal
        for _ in range(20)
    )

    assert null_rejections <= 20  # 5 % of 200 is 10; sparse counts do not inflate it
    assert found >= 18


def test_rate_ratio_p_values_are_statsmodels_exact_conditional_test() -> None:
    now = pd.Series([12.0, 3.0, 30.0, 0.0, 7.0], index=list("abcde"))
    before = pd.Series([5.0, 4.0, 28.0, 0.0, 9.0], index=list("abcde"))

    trend = rate_ratio_trend(now, before)

    ratio_null = now.sum() / before.sum()
    for unit in ["a", "b", "c", "e"]:
        reference = poisson_2indep_test(
            int(now[unit]),
            1.0,
            int(before[unit]),
            1.0,
            value=ratio_null,
            method="exact-cond",
            alternative="larger",
        )
        assert trend.p_value[unit] == pytest.approx(reference.pvalue, rel=1e-9)
    assert trend.p_value["d"] == 1.0
    for unit in ["a", "b", "c", "e"]:  # and scipy's binomtest, the vectorised rule's source
        p0 = now.sum() / (now.sum() + before.sum())
        n = int(now[unit] + before[unit])
        reference = stats.binomtest(int(now[unit]), n, p0, alternative="greater").pvalue
        assert trend.p_value[unit] == pytest.approx(reference, rel=1e-9)
    valid = trend.p_value.to_numpy()
    np.testing.assert_allclose(trend.q_value, multipletests(valid, method="fdr_bh")[1])


def test_planted_trend_is_flagged_and_only_it(lanco_micro) -> None:
    population, _ = _lanco(lanco_micro)
    rng = np.random.default_rng(5)
    flagged_planted, flagged_other = 0, 0
    planted = int(np.argmax(population.to_numpy()))
    for _ in range(30):
        before = rng.poisson(population.to_numpy() * 0.02)
        multiplier = np.ones(len(population))
        multiplier[planted] = 3.0
        now = rng.poisson(population.to_numpy() * 0.02 * multiplier)
        trend = rate_ratio_trend(
            pd.Series(now, index=population.index), pd.Series(before, index=population.index)
        )
        flagged_planted += bool(trend.rising.iloc[planted])
        flagged_other += bool(trend.rising.drop(trend.rising.index[planted]).any())
    assert flagged_planted >= 20
    assert flagged_other <= 3


def test_gi_star_z_is_esdas(lanco_micro) -> None:
    population, weights = _lanco(lanco_micro)
    rng = np.random.default_rng(6)
    values = rng.gamma(2.0, 5.0, len(population))
    codes = list(population.index)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = G_Local(
            values,
            W(weights.neighbors, id_order=codes, silence_warnings=True),
            transform="B",
            star=True,
            permutations=0,
        ).Zs
    z = gi_star_z(values, star_matrix(weights, codes))

    islands = [len(weights.neighbors[c]) == 0 for c in codes]
    np.testing.assert_allclose(z[~np.array(islands)], np.asarray(reference)[~np.array(islands)])


def test_hot_spots_are_high_high_after_fdr_with_the_local_moran_quadrant(lanco_micro) -> None:
    population, weights = _lanco(lanco_micro)
    rng = np.random.default_rng(7)
    values = pd.Series(rng.gamma(4.0, 2.0, len(population)), index=population.index)

    spots = high_high_hot_spots(values, weights, HotSpotParams())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lisa = Moran_Local(
            values.to_numpy(),
            W(weights.neighbors, id_order=list(values.index), silence_warnings=True),
            transformation="r",
            permutations=0,
        )
    connected = ~spots.gi.island
    np.testing.assert_array_equal(
        spots.lisa_quadrant[connected].to_numpy(), np.asarray(lisa.q)[connected.to_numpy()]
    )
    assert not (spots.hot & ~spots.above_mean).any()
    assert (spots.q_value[spots.hot] <= 0.05).all()
    tested = spots.gi.p_sim[connected].to_numpy()
    np.testing.assert_allclose(spots.q_value[connected], multipletests(tested, method="fdr_bh")[1])


def test_holm_across_variables_is_statsmodels_holm() -> None:
    tests = {
        "a": SignalTest("x", 1.0, 0.004, True),
        "b": SignalTest("x", 1.0, 0.03, True),
        "c": SignalTest("x", 1.0, 0.2, False),
        "d": SignalTest("x", 1.0, 0.01, True),  # not weighted: outside the family
        "e": SignalTest("sin prueba", None, None, True),
    }

    out = across_variables(tests, {"a", "b", "c", "e"})

    reference = multipletests([0.004, 0.03, 0.2], method="holm")[1]
    assert [out[n].p_adjusted for n in "abc"] == pytest.approx(list(reference))
    assert [out[n].signal for n in "abc"] == [True, False, False]  # b: 0.06 after Holm
    assert out["d"].p_adjusted is None
    assert out["d"].signal
    assert out["e"].signal  # external variables: no test, their weight counts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numpy_corrections_equal_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 1, 15), rng.uniform(0, 0.01, 4), [0.02, 0.02, 1.0]])

    np.testing.assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1])
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1])
