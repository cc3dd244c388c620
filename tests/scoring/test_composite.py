"""Normalisation, contributions, ranks and classes; the weight-monotonicity property."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.scoring import Classifier, Normalisation, ScoringProfile
from app.scoring.composite import (
    classify,
    contributions,
    normalise,
    rank,
    scores,
    top_variables,
)


def test_min_max_maps_to_unit_interval_and_constant_column_to_zero() -> None:
    raw = pd.DataFrame({"a": [2.0, 4.0, 6.0], "b": [5.0, 5.0, 5.0]}, index=["x", "y", "z"])

    result = normalise(raw, Normalisation.MIN_MAX)

    assert result["a"].tolist() == [0.0, 0.5, 1.0]
    assert result["b"].tolist() == [0.0, 0.0, 0.0]


def test_inverted_variable_counts_low_values_as_critical() -> None:
    raw = pd.DataFrame({"ext_percepcion": [2.0, 4.0, 6.0]}, index=["x", "y", "z"])

    result = normalise(raw, Normalisation.MIN_MAX, frozenset({"ext_percepcion"}))

    assert result["ext_percepcion"].tolist() == [1.0, 0.5, 0.0]


def test_percentile_uses_average_ranks() -> None:
    raw = pd.DataFrame({"a": [1.0, 7.0, 7.0, 100.0, 3.0]}, index=list("vwxyz"))

    result = normalise(raw, Normalisation.PERCENTILE)

    assert result["a"].tolist() == [0.0, 0.625, 0.625, 1.0, 0.25]


def test_contributions_add_up_to_the_score_on_0_100() -> None:
    profile = ScoringProfile(
        name="p", version=1, weights={"dmcs_rate": 3, "violent_share": 1, "hotspot": 0}
    )
    normalised = pd.DataFrame(
        {"dmcs_rate": [1.0, 0.5, 0.0], "violent_share": [1.0, 0.0, 0.2], "hotspot": [1, 1, 1]},
        index=["x", "y", "z"],
    )

    contrib = contributions(normalised, profile)
    score = scores(contrib)

    assert contrib.loc["x"].to_dict() == {"dmcs_rate": 75.0, "violent_share": 25.0, "hotspot": 0.0}
    assert score.tolist() == [100.0, 37.5, 5.0]
    assert top_variables(contrib).tolist() == [
        ["dmcs_rate", "violent_share"],
        ["dmcs_rate"],
        ["violent_share"],
    ]


def test_rank_breaks_ties_by_code() -> None:
    score = pd.Series([10.0, 50.0, 10.0, 50.0 + 1e-12], index=["c", "b", "a", "d"])

    assert rank(score).to_dict() == {"b": 1, "d": 2, "a": 3, "c": 4}


@pytest.mark.parametrize("method", list(Classifier))
def test_fisher_jenks_and_quartiles_give_four_classes(method: Classifier) -> None:
    score = pd.Series([0, 1, 2, 30, 31, 32, 60, 61, 62, 95, 96, 97.0], index=list("abcdefghijkl"))

    classes = classify(score, method)

    assert classes.tolist() == ["bajo"] * 3 + ["medio"] * 3 + ["alto"] * 3 + ["crítico"] * 3


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([42.0], ["bajo"]),
        ([0.0, 0.0, 0.0], ["bajo", "bajo", "bajo"]),
        ([10.0, 80.0], ["bajo", "crítico"]),
        ([10.0, 80.0, 80.0], ["bajo", "crítico", "crítico"]),
        ([10.0, 50.0, 80.0], ["bajo", "medio", "crítico"]),
        ([0.0, 10.0, 50.0, 80.0], ["bajo", "medio", "alto", "crítico"]),
    ],
)
def test_classes_with_few_units_or_few_distinct_scores(
    values: list[float], expected: list[str]
) -> None:
    score = pd.Series(values, index=[f"u{i}" for i in range(len(values))])

    assert classify(score, Classifier.FISHER_JENKS).tolist() == expected


def test_higher_score_never_gets_a_lower_class() -> None:
    rng = np.random.default_rng(3)
    score = pd.Series(rng.uniform(0, 100, 40).round(3), index=[f"u{i:02d}" for i in range(40)])
    order = ["bajo", "medio", "alto", "crítico"]

    classes = classify(score, Classifier.FISHER_JENKS).map(order.index)

    by_score = classes[score.sort_values().index]
    assert by_score.is_monotonic_increasing


VARS = ["dmcs_rate", "violent_share", "risk_factor_load", "dmcs_trend"]


@st.composite
def ranking_cases(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, float], str, float]:
    n = draw(st.integers(2, 12))
    codes = [f"U{i:02d}" for i in range(n)]
    values = st.floats(0, 100, allow_nan=False, allow_infinity=False)
    raw = pd.DataFrame(
        {v: draw(st.lists(values, min_size=n, max_size=n)) for v in VARS}, index=codes
    )
    weights = {v: draw(st.floats(0, 50, allow_nan=False)) for v in VARS}
    assume(math.fsum(weights.values()) > 0)
    variable = draw(st.sampled_from(VARS))
    extra = draw(st.floats(0.01, 100, allow_nan=False))
    return raw, weights, variable, extra


def ranks_for(raw: pd.DataFrame, weights: dict[str, float], method: Normalisation) -> pd.Series:
    profile = ScoringProfile(name="p", version=1, weights=weights, normalisation=method)
    return rank(scores(contributions(normalise(raw, method), profile)))


@pytest.mark.parametrize("method", list(Normalisation))
@settings(max_examples=300, deadline=None)
@given(case=ranking_cases())
def test_raising_a_weight_never_lowers_the_rank_of_the_unit_leading_on_it(
    method: Normalisation, case: tuple[pd.DataFrame, dict[str, float], str, float]
) -> None:
    raw, weights, variable, extra = case
    leader = str(raw[variable].idxmax())  # first code among tied leaders

    before = ranks_for(raw, weights, method)[leader]
    after = ranks_for(raw, {**weights, variable: weights[variable] + extra}, method)[leader]

    assert after <= before  # rank 1 is the most critical
