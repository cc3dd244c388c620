"""Empirical-Bayes rates against hand-computed values and against esda called directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from esda.smoothing import Empirical_Bayes
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scoring import ScoringInputError, empirical_bayes

CODES = ["A", "B", "C", "D"]
EVENTS = pd.Series([2, 30, 1, 5], index=CODES)
POPULATION = pd.Series([400, 1000, 250, 800], index=CODES)


def test_matches_hand_computed_marshall_estimate() -> None:
    # m = 38 / 2450 = 0.0155102; crude x = 0.005, 0.03, 0.004, 0.00625
    # A = sum(n (x - m)^2) / sum(n) - m / mean(n) = 1.45250e-4 - 0.0155102 / 612.5 = 1.19927e-4
    # C = A / (A + m / n) = 0.755672, 0.885481, 0.659056, 0.860835
    # r = C x + (1 - C) m, per 1,000:
    result = empirical_bayes(EVENTS, POPULATION)

    assert result.prior_mean == pytest.approx(15.5102041, rel=1e-7)
    assert result.between_variance == pytest.approx(1.19927e-4, rel=1e-5)
    np.testing.assert_allclose(
        result.shrinkage.to_numpy(), [0.755672, 0.885481, 0.659056, 0.860835], atol=1e-6
    )
    np.testing.assert_allclose(
        result.smoothed.to_numpy(), [7.567938, 28.340637, 7.924331, 7.538696], atol=1e-6
    )
    np.testing.assert_allclose(result.crude.to_numpy(), [5.0, 30.0, 4.0, 6.25])
    assert not result.imputed.any()


def test_matches_esda_called_directly() -> None:
    expected = Empirical_Bayes(EVENTS.to_numpy(), POPULATION.to_numpy()).r.ravel() * 1000

    result = empirical_bayes(EVENTS, POPULATION)

    np.testing.assert_allclose(result.smoothed.to_numpy(), expected, rtol=1e-12)


def test_no_variation_beyond_chance_gives_everyone_the_mean() -> None:
    # Identical crude rates: A = -m / mean(n) < 0, where esda's raw weights would go negative
    events = pd.Series([1, 2, 4], index=["A", "B", "C"])
    population = pd.Series([100, 200, 400], index=["A", "B", "C"])

    result = empirical_bayes(events, population)

    np.testing.assert_allclose(result.smoothed.to_numpy(), [10.0, 10.0, 10.0])
    assert result.between_variance == 0.0
    assert (result.shrinkage == 0.0).all()


def test_negative_between_variance_is_clipped_where_esda_is_not() -> None:
    # With these counts esda ranks the unit with the highest crude rate *below* the mean
    events = pd.Series([2, 10, 0, 5], index=CODES)
    raw_esda = Empirical_Bayes(events.to_numpy(), POPULATION.to_numpy()).r.ravel() * 1000
    assert raw_esda[1] < 17 / 2450 * 1000

    result = empirical_bayes(events, POPULATION)

    np.testing.assert_allclose(result.smoothed.to_numpy(), [17 / 2450 * 1000] * 4)


def test_unit_without_population_gets_the_mean_of_the_others_and_is_flagged() -> None:
    events = pd.concat([EVENTS, pd.Series({"E": 9})])
    population = pd.concat([POPULATION, pd.Series({"E": 0})])

    result = empirical_bayes(events, population)

    fitted = Empirical_Bayes(EVENTS.to_numpy(), POPULATION.to_numpy()).r.ravel() * 1000
    np.testing.assert_allclose(result.smoothed[CODES].to_numpy(), fitted, rtol=1e-12)
    assert result.smoothed["E"] == pytest.approx(38 / 2450 * 1000)
    assert result.imputed.to_dict() == {"A": False, "B": False, "C": False, "D": False, "E": True}
    assert np.isnan(result.crude["E"])


def test_no_events_anywhere_gives_zero_rates() -> None:
    result = empirical_bayes(EVENTS * 0, POPULATION)

    assert (result.smoothed == 0.0).all()


def test_no_population_anywhere_is_an_error() -> None:
    with pytest.raises(ScoringInputError, match="ninguna unidad tiene población"):
        empirical_bayes(EVENTS, POPULATION * 0)


def test_share_uses_complaints_as_the_base() -> None:
    violent = pd.Series([1, 20, 2], index=["A", "B", "C"])
    total = pd.Series([20, 40, 30], index=["A", "B", "C"])

    result = empirical_bayes(violent, total, per=1.0)

    expected = Empirical_Bayes(violent.to_numpy(), total.to_numpy()).r.ravel()
    assert (result.shrinkage > 0).all()  # a real fit, not the all-equal fallback
    np.testing.assert_allclose(result.smoothed.to_numpy(), expected)
    assert ((result.smoothed >= 0) & (result.smoothed <= 1)).all()


units = st.integers(min_value=1, max_value=8)


@st.composite
def counts_and_populations(draw: st.DrawFn) -> tuple[pd.Series, pd.Series, str]:
    n = draw(units)
    codes = [f"U{i:02d}" for i in range(n)]
    events = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))
    population = draw(
        st.lists(st.one_of(st.just(0), st.integers(1, 5000)), min_size=n, max_size=n).filter(
            lambda values: any(v > 0 for v in values)
        )
    )
    target = draw(st.sampled_from(codes))
    return pd.Series(events, index=codes), pd.Series(population, index=codes), target


@settings(max_examples=400, deadline=None)
@given(counts_and_populations())
def test_adding_a_complaint_never_lowers_the_units_smoothed_rate(
    case: tuple[pd.Series, pd.Series, str],
) -> None:
    events, population, target = case
    before = empirical_bayes(events, population).smoothed[target]
    more = events.copy()
    more[target] += 1

    after = empirical_bayes(more, population).smoothed[target]

    assert after >= before - 1e-9 * max(1.0, abs(before))
