"""The numpy Fisher-Jenks gives mapclassify's breaks and classes, bit for bit."""

from __future__ import annotations

import warnings

import mapclassify
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.scoring.jenks import fisher_jenks_breaks, fisher_jenks_classes


def _mapclassify(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Numba not installed"
        result = mapclassify.FisherJenks(values, k=k)
    return np.asarray(result.bins), np.asarray(result.yb)


@pytest.mark.parametrize("n", [4, 19, 50, 192])
@pytest.mark.parametrize("seed", range(5))
def test_same_breaks_and_classes_as_mapclassify(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.gamma(2.0, 12.0, n).round(9)
    scores[: n // 5] = scores[0]  # a block of ties, as quiet units give
    k = min(4, len(np.unique(scores)))
    bins, classes = _mapclassify(scores, k)

    np.testing.assert_array_equal(fisher_jenks_breaks(np.sort(scores).astype("f8"), k), bins)
    np.testing.assert_array_equal(fisher_jenks_classes(scores, k), classes)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 9)), min_size=2, max_size=60
    ),
    k=st.integers(2, 4),
)
def test_same_classes_as_mapclassify_on_any_scores(values: list[float], k: int) -> None:
    scores = np.array(values)
    k = min(k, len(np.unique(scores)))
    assume(k >= 2)
    bins, classes = _mapclassify(scores, k)

    np.testing.assert_array_equal(fisher_jenks_breaks(np.sort(scores).astype("f8"), k), bins)
    np.testing.assert_array_equal(fisher_jenks_classes(scores, k), classes)
