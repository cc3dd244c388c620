"""Trend of DMCS against the previous period, on smoothed rates.

trend_i = ln((r_i,now + d) / (r_i,prev + d)), where r are the empirical-Bayes DMCS rates per
1,000 residents of each period (each period smoothed on its own) and d is the rate of half a
complaint over all the residents of the ranking, a floor that keeps the ratio finite when a
period has no complaints at all and is negligible otherwise. A value of 0.10 is about +10 %;
-0.10 about -10 %. Because both rates are smoothed, a small unit whose counts move from 1 to 3
shows roughly the comuna's trend, not a 200 % jump.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.scoring.smoothing import SmoothedRates


def smoothed_trend(
    current: SmoothedRates, previous: SmoothedRates, population: pd.Series
) -> pd.Series:
    """Log ratio of the current and previous smoothed rates, with a half-complaint floor."""
    floor = current.per * 0.5 / float(population[population > 0].sum())
    now = current.smoothed
    before = previous.smoothed.reindex(now.index)
    return pd.Series(np.log((now + floor) / (before + floor)), index=now.index, dtype=float)
