"""`round_like_python` is Python's `round(x, d)` bit for bit (the fingerprints depend on it)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.scoring.exact_round import round_like_python
from app.scoring.snapshot import _canonical_floats, _plain_floats, canonical_number


def _adversarial(rng: np.random.Generator) -> np.ndarray:
    halves = [
        (2 * k + 1) / 2.0**e for k in range(-40, 40) for e in (1, 7, 11, 20, 34, 40)
    ]  # dyadic values whose d-decimal expansion ends in exactly 5
    near = [np.nextafter(h, s) for h in halves[:200] for s in (-np.inf, np.inf)]
    magnitudes = rng.uniform(-1.0, 1.0, 4000) * 10.0 ** rng.integers(-12, 17, 4000)
    # values that are (nearly) short decimals, as rates and shares are
    wide = rng.uniform(-1000, 1000, 2000).tolist()
    places = rng.integers(0, 12, 2000).tolist()
    decimal_like = [round(v, d) for v, d in zip(wide, places, strict=True)]
    specials = [0.0, -0.0, 5e-324, -5e-324, 1e-310, 2.0**52, 2.0**53 + 2, 1e300, -1e300]
    specials += [math.inf, -math.inf, math.nan, 0.5, 1.5, 2.5, -0.5, 0.0000005, 0.00000015]
    return np.concatenate([halves, near, magnitudes, decimal_like, specials, rng.random(2000)])


@pytest.mark.parametrize("decimals", [0, 1, 6, 10, 15])
def test_round_like_python_is_pythons_round_bit_for_bit(decimals: int) -> None:
    values = _adversarial(np.random.default_rng(decimals))

    ours = round_like_python(values, decimals)

    expected = np.array([round(v, decimals) for v in values.tolist()])
    same_bits = (ours.view(np.uint64) == expected.view(np.uint64)) | (
        np.isnan(ours) & np.isnan(expected)
    )
    assert same_bits.all(), values[~same_bits][:5]


def test_column_rules_equal_the_per_cell_rules() -> None:
    values = _adversarial(np.random.default_rng(99))

    assert _canonical_floats(values) == [canonical_number(v) for v in values.tolist()]
    plain = [None if v != v else round(v, 6) for v in values.tolist()]
    assert _plain_floats(values) == plain
