"""Getis-Ord Gi* hot spots on micro-barrios, computed by `esda.G_Local`.

Gi* (Getis & Ord 1992; Ord & Getis 1995) compares the sum of a variable over a unit and its
contiguous neighbours with what the whole territory would give by chance. Choices, all fixed
so that anyone recomputing gets the same numbers:

* weights: Queen contiguity, binary (`transform="B"`), focal unit included (`star=True`), the
  form of Ord & Getis (1995);
* z: the analytical z-score of esda (`Zs`); inference by 999 conditional permutations with a
  fixed seed (`p_sim`, one-sided pseudo p-value, Anselin 1995);
* a unit is a *significant hot spot* when z > 0 and p_sim <= 0.05; the ranking variable is z
  there and 0 elsewhere (cold spots do not lower a score);
* islands (no neighbours) cannot form a cluster: z = 0, p = 1, never a hot spot;
* a variable with no variation (e.g. all zero) has no hot spots: z = 0, p = 1.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from esda import G_Local, Moran_Local
from libpysal.weights import W

from app.scoring.multiple import benjamini_hochberg

HOTSPOT_SEED = 20_965  # Ley 20.965
HOTSPOT_PERMUTATIONS = 999
HOTSPOT_ALPHA = 0.05


@dataclass(frozen=True)
class HotSpotParams:
    seed: int = HOTSPOT_SEED
    permutations: int = HOTSPOT_PERMUTATIONS
    alpha: float = HOTSPOT_ALPHA


@dataclass(frozen=True)
class HotSpots:
    z: pd.Series
    p_sim: pd.Series
    island: pd.Series
    hot: pd.Series  # significant hot spot
    params: HotSpotParams

    @property
    def variable(self) -> pd.Series:
        """The ranking variable: Gi* z where the unit is a significant hot spot, else 0."""
        return self.z.where(self.hot, 0.0).astype(float)


def getis_ord_star(values: pd.Series, weights: W, params: HotSpotParams | None = None) -> HotSpots:
    """Gi* of `values` (indexed by unit code) over contiguity `weights` (ids = unit codes)."""
    params = params or HotSpotParams()
    order = [str(i) for i in weights.id_order]
    y = values.astype(float).reindex(order)
    island = pd.Series([len(weights.neighbors[i]) == 0 for i in weights.id_order], index=order)
    if len(order) < 3 or np.ptp(y.to_numpy()) == 0.0:
        z = pd.Series(0.0, index=order)
        p = pd.Series(1.0, index=order)
    else:
        z, p = _esda_gi_star(y, weights, params)
        z, p = z.where(~island, 0.0), p.where(~island, 1.0)
    hot = (z > 0) & (p <= params.alpha)
    return HotSpots(
        z=z.reindex(values.index),
        p_sim=p.reindex(values.index),
        island=island.reindex(values.index),
        hot=hot.reindex(values.index),
        params=params,
    )


def esda_gi_star(y: np.ndarray, weights: W, params: HotSpotParams) -> G_Local:
    """esda's Gi* as every Vigía hot spot runs it (polygons here, grid cells in grid_hotspots):
    binary weights, focal unit included, the project's seed and permutations."""
    with warnings.catch_warnings():
        # islands divide by zero inside esda's simulation summary (they are reset by the
        # caller); libpysal warns that Malalhue is not connected to Lanco town; esda 2.x
        # announces that a future major release will default to two-sided p-values: we use
        # the current (directed, folded) p_sim and record esda's version in every snapshot
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return G_Local(
            y,
            weights,
            transform="B",
            star=True,
            permutations=params.permutations,
            seed=params.seed,
            n_jobs=1,
            keep_simulations=False,
        )


def _esda_gi_star(y: pd.Series, weights: W, params: HotSpotParams) -> tuple[pd.Series, pd.Series]:
    gi = esda_gi_star(y.to_numpy(), weights, params)
    z = pd.Series(np.asarray(gi.Zs, dtype=float), index=y.index).fillna(0.0)
    p = pd.Series(np.asarray(gi.p_sim, dtype=float), index=y.index)
    return z, p


# --- method 2: high-high hot spots after a false-discovery-rate correction ---------------------
#
# Method 1 called a unit a hot spot when Gi* z > 0 and p_sim <= 0.05, one test per unit with no
# correction, so a unit whose own rate is below the mean could be "hot" because of its
# neighbours. Method 2 asks for all three: Gi* z > 0, the unit's own value above the mean, and
# a Benjamini-Hochberg q <= alpha over the units tested (islands are not tested). The local
# Moran's I quadrant (Anselin 1995; esda `Moran_Local`, row-standardised weights) is reported
# beside it: 1 high-high, 2 low-high, 3 low-low, 4 high-low. The quadrant needs no
# permutations (it is the sign of the value and of its spatial lag), so none are drawn.


@dataclass(frozen=True)
class HighHighSpots:
    gi: HotSpots
    q_value: pd.Series  # BH over the non-island units (islands: 1)
    above_mean: pd.Series
    lisa_quadrant: pd.Series  # 1..4; 0 for islands or a constant variable
    hot: pd.Series

    @property
    def variable(self) -> pd.Series:
        """Gi* z where the unit is a significant high-high hot spot, else 0."""
        return self.gi.z.where(self.hot, 0.0).astype(float)


def high_high_hot_spots(
    values: pd.Series, weights: W, params: HotSpotParams | None = None
) -> HighHighSpots:
    params = params or HotSpotParams()
    gi = getis_ord_star(values, weights, params)
    tested = ~gi.island
    q = pd.Series(1.0, index=values.index)
    if tested.any():
        q[tested] = benjamini_hochberg(gi.p_sim[tested].to_numpy())
    above = values.astype(float) > float(values.mean())
    quadrant = _local_moran_quadrant(values, weights)
    hot = (gi.z > 0) & above & (q <= params.alpha) & tested
    return HighHighSpots(gi=gi, q_value=q, above_mean=above, lisa_quadrant=quadrant, hot=hot)


def _local_moran_quadrant(values: pd.Series, weights: W) -> pd.Series:
    order = [str(i) for i in weights.id_order]
    y = values.astype(float).reindex(order)
    island = pd.Series([len(weights.neighbors[i]) == 0 for i in weights.id_order], index=order)
    if len(order) < 3 or np.ptp(y.to_numpy()) == 0.0:
        return pd.Series(0, index=values.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        lisa = Moran_Local(
            y.to_numpy(),
            # esda sets the transform on the W it gets: a copy keeps the caller's binary weights
            W(weights.neighbors, id_order=weights.id_order, silence_warnings=True),
            transformation="r",
            permutations=0,
        )
    quadrant = pd.Series(np.asarray(lisa.q, dtype=int), index=order).where(~island, 0)
    return quadrant.reindex(values.index)
