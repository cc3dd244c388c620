"""Corrections for many tests at once: Benjamini-Hochberg (units) and Holm (variables).

The same adjusted p-values as statsmodels' `multipletests(method="fdr_bh")` and
`multipletests(method="holm")` (tests/scoring check equality), written in numpy because
statsmodels' function runs a full garbage collection on every call (about 0.1 s each, three
calls per ranking: most of a regional ranking's time).
"""

from __future__ import annotations

import numpy as np


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """q_i = min over j >= i of p_(j) m / j (sorted ascending), capped at 1."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="mergesort")
    scaled = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down: max over j <= i of p_(j) (m - j + 1), capped at 1."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="mergesort")
    scaled = p[order] * (m - np.arange(m))
    adjusted = np.maximum.accumulate(np.minimum(scaled, 1.0))
    out = np.empty(m)
    out[order] = adjusted
    return out
