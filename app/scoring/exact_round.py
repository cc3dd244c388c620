"""Python's `round(x, d)` on a whole float64 array, bit for bit, without a call per value.

The fingerprints and records of a ranking write every number through `round(x, 10)` and
`round(x, 6)` (app/scoring/snapshot.py); with ~50 columns per unit that is ~10,000 calls per
ranking. Python's round is correctly rounded: it takes the exact binary value of x, rounds it
half-to-even at d decimals and returns the double nearest to that decimal. For most values
numpy gives the same double: y = x * 10^d carries a relative error of at most 2^-53, so when
y is not within that error of a half-integer, `rint(y)` is the correctly rounded integer R,
and R / 10^d (R and 10^d exact, d <= 15, |R| < 2^52) is an IEEE division, correctly rounded:
the double nearest to R / 10^d, which is what Python returns. The values that fail that test
(near a half, huge, NaN, infinite) go through Python's round itself.
tests/scoring/test_exact_round.py checks equality on random and adversarial values.
"""

from __future__ import annotations

import numpy as np

_LIMIT = 2.0**52  # beyond it every double is an integer and rint has nothing to decide
_MARGIN = 2.0**-50  # > the relative error of x * 10^d (2^-53), with room to spare


def round_like_python(values: np.ndarray, decimals: int) -> np.ndarray:
    """`np.array([round(x, decimals) for x in values])`, the same doubles, vectorised."""
    if not 0 <= decimals <= 15:
        raise ValueError("decimals entre 0 y 15")
    x = np.asarray(values, dtype=np.float64)
    scale = 10.0**decimals  # exact for decimals <= 22
    with np.errstate(invalid="ignore", over="ignore"):
        y = x * scale
        size = np.abs(y)
        distance = np.abs(np.abs(y - np.trunc(y)) - 0.5)  # from the nearest half-integer
        safe = (size < _LIMIT) & (distance > size * _MARGIN)
        out = np.rint(y) / scale
    unsafe = np.flatnonzero(~safe)
    if unsafe.size:
        out[unsafe] = [round(v, decimals) for v in x[unsafe].tolist()]
    return out
