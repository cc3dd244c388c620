"""Predictive accuracy and efficiency of a ranking of grid cells (issue #17, item 2).

PAI (Chainey, Tompson & Uhlig 2008): the share of the test events in the chosen cells over
the share of the area they cover; PEI (Hunt 2016): the events in the chosen cells over the
most events any as many cells hold, i.e. PAI / PAI* (exact for the equal cells of a grid).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from app.scoring.errors import ScoringInputError, problem

PAI_SHARES: tuple[float, ...] = (0.05, 0.10, 0.20)


def _refuse(field: str, reason: str) -> ScoringInputError:
    return ScoringInputError(reason, errors=[problem(field, reason)])


def cells_in_share(share: float, n: int) -> int:
    """ceil(share * n) cells, at least one (share in (0, 1])."""
    if not 0 < share <= 1:
        raise _refuse("shares", "Las proporciones de área deben estar en (0, 1].")
    return max(1, math.ceil(share * n - 1e-9))


def pai_pei(
    scores: np.ndarray,
    counts_test: np.ndarray,
    area: float | np.ndarray,
    shares: Sequence[float] = PAI_SHARES,
) -> pd.DataFrame:
    """Per share s: the k = ceil(s n) cells of highest score (ties: lower index first),
    PAI = (hits / all events) / (their area / all area) and PEI = hits / the most events any
    k cells hold (Hunt 2016's PAI / PAI*, exact for the equal cells of a grid)."""
    scores = np.asarray(scores, dtype=float)
    y = np.asarray(counts_test, dtype=float)
    cell_area = np.broadcast_to(np.asarray(area, dtype=float), scores.shape)
    if len(y) != len(scores) or not len(y) or (cell_area <= 0).any():
        raise _refuse("counts_test", "Se esperaban conteos y áreas positivas, uno por celda.")
    order = np.argsort(-scores, kind="stable")
    most = np.sort(y)[::-1]
    rows = []
    for share in shares:
        k = cells_in_share(share, len(y))
        hits = float(y[order[:k]].sum())
        area_share = float(cell_area[order[:k]].sum() / cell_area.sum())
        hit_rate = hits / y.sum() if y.sum() > 0 else float("nan")
        best = float(most[:k].sum())
        pei = hits / best if best > 0 else float("nan")
        rows.append((share, k, area_share, hits, hit_rate, hit_rate / area_share, best, pei))
    columns = ["share", "cells", "area_share", "hits", "hit_rate", "pai", "max_hits", "pei"]
    return pd.DataFrame(rows, columns=columns)
