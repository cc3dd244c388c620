"""The bootstrap's fast rank intervals equal the plain numpy computation (issue #16, speed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.scoring.composite import CLASSES
from app.scoring.smoothing import poisson_eb
from app.scoring.uncertainty import INTERVAL, _class_probability, _poisson_blocks, rank_interval


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
        if seed % 8 == 0:  # ties in some draws only (clipped scores): both paths in one call
            score[:, rng.random(draws) < 0.3] = np.clip(score[:, :1] - 50.0, 0.0, None)
    else:  # few distinct values: ties in every draw, as units with no complaints give
        score = rng.integers(0, int(rng.integers(1, 6)), (units, draws)) * 12.5
    if seed % 3 == 0:
        score[rng.random(score.shape) < 0.05] = np.nan

    low, high = rank_interval(score.astype(float))

    expected_low, expected_high = _reference(score.astype(float))
    np.testing.assert_array_equal(low, expected_low)
    np.testing.assert_array_equal(high, expected_high)


def _masked_poisson_eb(events: np.ndarray, base: np.ndarray) -> np.ndarray:
    """The masked form of `poisson_eb` (any base may be 0), written out as it was first."""
    e = events
    n = np.broadcast_to(base[:, None], e.shape)
    has = n > 0
    n_fit = np.where(has, n, 0.0)
    total_n = n_fit.sum(axis=0)
    m = e.sum(axis=0, where=has) / total_n
    crude = np.divide(e, n, out=np.zeros_like(e), where=has)
    spread = (n_fit * (crude - m) ** 2).sum(axis=0) / total_n
    between = np.clip(spread - m / (total_n / has.sum(axis=0)), 0.0, None)
    noise = np.divide(m, n, out=np.full_like(n, np.inf), where=has)
    with np.errstate(invalid="ignore", divide="ignore"):
        shrink = np.where(has & (between > 0), between / (between + noise), 0.0)
    return shrink * crude + (1.0 - shrink) * m


@pytest.mark.parametrize("seed", range(5))
def test_poisson_eb_without_masks_gives_the_masked_doubles(seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = rng.integers(1, 3000, 150).astype(float)
    rate = rng.uniform(0.001, 0.05, 150) if seed % 2 else np.full(150, 0.01)  # A > 0 and A = 0
    events = rng.poisson(np.broadcast_to((base * rate)[:, None], (150, 400))).astype(float)

    smoothed = poisson_eb(events, base)[0]

    expected = _masked_poisson_eb(events, base)
    assert smoothed.tobytes() == expected.tobytes()
    observed = _masked_poisson_eb(events[:, :1], base).ravel()  # the (k,) form sums its own way
    assert poisson_eb(events[:, 0], base)[0].tobytes() == observed.tobytes()


@pytest.mark.parametrize("seed", range(12))
def test_class_probability_is_searchsorted_over_the_observed_breaks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    units, draws = int(rng.integers(2, 60)), int(rng.integers(1, 800))
    labels = tuple(reversed(CLASSES))
    observed = pd.Series(rng.uniform(0.0, 100.0, units).round(int(seed % 3)))
    present = list(CLASSES)[: int(rng.integers(1, len(CLASSES) + 1))]
    classes = pd.Series(pd.cut(observed.rank(method="first"), len(present), labels=present))
    classes = classes.astype(str)
    score = np.clip(observed.to_numpy()[:, None] + rng.normal(0, 15, (units, draws)), 0, 100)
    if seed % 2:  # scores exactly on a break, and NaN draws
        breaks = [
            (observed[classes == a].max() + observed[classes == b].min()) / 2.0
            for a, b in zip(present, present[1:], strict=False)
        ]
        if breaks:
            score[rng.random(score.shape) < 0.05] = breaks[0]
        score[rng.random(score.shape) < 0.03] = np.nan

    probability = _class_probability(score, observed, classes, labels)

    bounds = [
        (observed[classes == a].max() + observed[classes == b].min()) / 2.0
        for a, b in zip(present, present[1:], strict=False)
    ]
    slot = np.searchsorted(np.asarray(bounds), score, side="right")
    for i, label in enumerate(present):
        expected = (slot == i).sum(axis=1) / float(draws)
        np.testing.assert_array_equal(probability[:, labels.index(label)], expected)
    absent = [labels.index(label) for label in labels if label not in present]
    assert not probability[:, absent].any()


@pytest.mark.parametrize("seed", range(4))
def test_one_poisson_call_gives_the_variates_of_one_call_per_variable(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k, draws = int(rng.integers(1, 200)), int(rng.integers(1, 1100))
    means = {name: rng.gamma(0.5, 30.0, k).round() for name in ("a", "b", "c")}
    means["b"][: k // 2] = 0.0  # a mean of 0 draws no uniform at all
    means["c"] = means["c"] + 0.37  # non-integer means, both of numpy's algorithms

    together = np.random.default_rng(20965)
    blocks = _poisson_blocks(together, means, draws)

    apart = np.random.default_rng(20965)
    for name, mean in means.items():
        expected = apart.poisson(np.broadcast_to(mean[:, None], (k, draws))).astype(float)
        assert blocks[name].tobytes() == expected.tobytes()
    assert together.random() == apart.random()  # the same state for what follows
