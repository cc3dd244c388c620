"""Do grid hot spots find the planted micro-barrios better than polygon Gi*? (issue #17, 3)

One seed: simulate the demo world, take the DMCS complaints of the last 12 months of the
window, and score the micro-barrios two ways:

* grid: Gi* on 50 m cells over the census blocks (app/scoring/grid_hotspots.py), then each
  unit's `hot_share` (share of its settled area in significant hot cells);
* polygon: the ranking's method-2 Gi* (`high_high_hot_spots`) on the DMCS rate per 1,000
  residents of the 19 micro-barrios, Queen contiguity.

`recall_top_k`: the share of the k planted units (k = how many were planted) among the k
units with the highest hot_share (ties broken against the planted units, so a tie at 0
does not count as found). The null world (`signal=False`) reports the share of cells that
are hot and of units flagged by the polygon Gi*.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from app.demo.sources import DemoSources
from app.demo.world import simulate
from app.scoring import contiguity_weights
from app.scoring.grid_hotspots import (
    DEFAULT_BAND_M,
    DEFAULT_CELL_M,
    Grid,
    count_in_cells,
    grid_gi_star,
    hot_share,
    square_grid,
)
from app.scoring.hotspots import high_high_hot_spots
from app.scoring.near_repeat import project


@dataclass(frozen=True)
class GridRecovery:
    seed: int
    signal: bool
    planted: tuple[str, ...]  # the units planted in the signal world of the seed
    events: int
    outside: int  # events outside the grid (rural, off the census blocks)
    cells: int
    hot_cells: int
    share: pd.Series  # hot_share per micro-barrio
    grid_recall_top_k: float
    polygon_hot: tuple[str, ...]  # micro-barrios flagged by polygon Gi* (method 2)
    grid_seconds: float
    polygon_seconds: float


def settled_grid(sources: DemoSources, cell_m: float = DEFAULT_CELL_M) -> Grid:
    """The grid over the comuna's census blocks (cached per sources and cell side)."""
    key = f"grid_{cell_m:g}"
    if key not in sources.cache:
        sources.cache[key] = square_grid([blk for b in sources.barrios for blk in b.blocks], cell_m)
    grid: Grid = sources.cache[key]
    return grid


def recall_top_k(share: pd.Series, planted: tuple[str, ...]) -> float:
    if not planted:
        return float("nan")
    order = sorted(share.index, key=lambda c: (-share[c], c in planted, c))
    return len(set(order[: len(planted)]) & set(planted)) / len(planted)


def recover(
    sources: DemoSources,
    *,
    seed: int,
    end: date,
    signal: bool = True,
    band_m: float = DEFAULT_BAND_M,
) -> GridRecovery:
    world = simulate(sources, seed=seed, end=end, years=3, signal=signal)
    planted = tuple(sorted(simulate(sources, seed=seed, end=end, years=3).truth.elevated))
    window_end = world.truth.window[1]
    start = window_end.replace(year=window_end.year - 1)
    c = world.complaints
    c = c[c["category"].isin(sorted(sources.dmcs_codes)) & (c["occurred_at"].dt.date >= start)]
    grid = settled_grid(sources)
    units = {m.code: m.geom for m in sources.micro_barrios}

    started = time.perf_counter()
    x, y = project(c["lon"].to_numpy(), c["lat"].to_numpy(), grid.crs)
    counted = count_in_cells(grid, x, y)
    spots = grid_gi_star(counted.counts, grid, band_m)
    share = hot_share(grid, spots.hot, units)
    grid_seconds = time.perf_counter() - started

    started = time.perf_counter()
    population = pd.Series({m.code: m.population for m in sources.micro_barrios}, dtype=float)
    counts = c["micro_barrio"].value_counts().reindex(population.index, fill_value=0)
    rate = counts.astype(float) / population * 1000
    geometry = pd.Series(units, dtype=object).reindex(population.index)
    polygon = high_high_hot_spots(rate, contiguity_weights(geometry))
    polygon_seconds = time.perf_counter() - started

    return GridRecovery(
        seed=seed,
        signal=signal,
        planted=planted,
        events=len(c),
        outside=counted.outside,
        cells=grid.size,
        hot_cells=int(np.sum(spots.hot)),
        share=share,
        grid_recall_top_k=recall_top_k(share, planted),
        polygon_hot=tuple(sorted(polygon.hot.index[polygon.hot.to_numpy()])),
        grid_seconds=grid_seconds,
        polygon_seconds=polygon_seconds,
    )
