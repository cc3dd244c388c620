"""The trend test's power (app/scoring/trend.py) against a direct simulation of the same test.

The power is what the planted-trend recovery is read against (docs/metodologia.md, M2.10):
if it were wrong, "the detection rate follows the power" would mean nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.scoring.trend import (
    exact_binomial_greater,
    minimum_detectable_rise,
    rise_detection_power,
)


@pytest.mark.parametrize(
    ("before_mean", "ratio", "p0", "alpha_star"),
    [
        (10, 2.5, 0.5, 0.05 / 19),
        (10, 5.0, 0.5, 0.05 / 19),
        (30, 2.0, 0.45, 0.05 / 19),
        (3, 4, 0.5, 0.05),
    ],
)
def test_power_equals_simulating_the_test(
    before_mean: float, ratio: float, p0: float, alpha_star: float
) -> None:
    rng = np.random.default_rng(7)
    draws = 200_000
    g = p0 / (1 - p0)
    before = rng.poisson(before_mean, draws)
    now = rng.poisson(before_mean * ratio * g, draws)
    flagged = exact_binomial_greater(now, now + before, p0) <= alpha_star
    simulated = float(flagged.mean())
    error = 4 * np.sqrt(simulated * (1 - simulated) / draws) + 1e-4
    assert rise_detection_power(before_mean, ratio, p0, alpha_star) == pytest.approx(
        simulated, abs=error
    )


def test_no_rise_is_flagged_at_most_at_the_level() -> None:
    # ratio 1: the power is the size of the test, at most alpha_star (exact test: below it)
    for mean in (2, 8, 40):
        size = rise_detection_power(mean, 1.0, 0.5, 0.05)
        assert 0 < size <= 0.05


def test_minimum_detectable_rise_has_the_asked_power_and_shrinks_with_counts() -> None:
    small = minimum_detectable_rise(5, 0.5, 0.05 / 19)
    large = minimum_detectable_rise(50, 0.5, 0.05 / 19)
    assert small is not None
    assert large is not None
    assert large < small
    assert rise_detection_power(50, large, 0.5, 0.05 / 19) >= 0.9
    assert rise_detection_power(50, large * 0.95, 0.5, 0.05 / 19) < 0.9
    assert minimum_detectable_rise(0.2, 0.5, 0.05 / 19) is None  # nothing could show it
