"""The bootstrap's fast rank intervals equal the plain numpy computation (issue #16, speed)."""

from __future__ import annotations

import numpy as np
import pytest

from app.scoring.uncertainty import INTERVAL, rank_interval


def _reference(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable argsort of every draw (ties by unit order), then numpy's nearest percentiles."""
    order = np.argsort(-score, axis=0, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(score.shape[0])[:, None]
    np.put_along_axis(ranks, order, np.broadcast_to(rows + 1, order.shape), axis=0)
    low, high = np.percentile(ranks, INTERVAL, axis=1, method="nearest")
    return low.astype(int), high.astype(int)


@pytest.mark.parametrize("seed", range(40))
def test_rank_interval_is_a_stable_sort_and_numpys_nearest_percentile(seed: int) -> None:
    rng = np.random.default_rng(seed)
    units, draws = int(rng.integers(1, 70)), int(rng.integers(1, 1200))
    if seed % 4 == 0:  # continuous scores: ties only by accident
        score = rng.uniform(0.0, 100.0, (units, draws))
    else:  # few distinct values: ties in every draw, as units with no complaints give
        score = rng.integers(0, int(rng.integers(1, 6)), (units, draws)) * 12.5
    if seed % 3 == 0:
        score[rng.random(score.shape) < 0.05] = np.nan

    low, high = rank_interval(score.astype(float))

    expected_low, expected_high = _reference(score.astype(float))
    np.testing.assert_array_equal(low, expected_low)
    np.testing.assert_array_equal(high, expected_high)
