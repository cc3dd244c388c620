"""Does the risk-terrain model find the planted factor effects, and nothing else? (#17, 2)

One seed: simulate the demo world, count the DMCS complaints of the trend-free part of the
window (the months before the planted trend, 24 of 3 years) on the 50 m grid over the
census blocks (app/demo/grid_recovery.py), build the features of the world's real (not
discarded) risk factors by type (their anchor points, lon/lat projected to metres) and fit
the model (app/scoring/risk_terrain.py). The truth (`RECOVERY_SPEC`) multiplies the DMCS
risk of a resident site by RR_k when the centre of its 50 m cell lies within 100 m of a
real factor of type k: the model's own `proximidad` variable at its first band, so the
recovery tests the statistics. The demo's default truth (a site within 120 m of the
factor, `spec=PlantedSpec()`) is an effect no cell-level 0/1 variable can represent: half
of the cells whose centre is within a band are only partly exposed, and the RR estimated
is the mean over them (about 2.6 for a planted 3); bench/risk_terrain_recovery.py
--efecto-en-sitios reports that case. The truth is a
risk per resident, so the residents of each cell enter as the exposure (`exposure=True`,
log offset): without it a factor placed where people live looks like a risk factor. Each
cell's micro-barrio enters as a fixed effect (`strata=True`): the elevated micro-barrios
of the truth are a risk no layer names, and without them it leaks into the layers that lie
in them.

* `retained`: type -> (feature, RR, 95 % interval) of the retained layers;
* `covered(t)`: type t is retained with the planted RR inside its interval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import shapely

from app.demo.grid_recovery import settled_grid
from app.demo.places import build_areas
from app.demo.planted import PlantedSpec
from app.demo.sources import DemoSources
from app.demo.world import DemoWorld, simulate
from app.scoring.grid_hotspots import DEFAULT_CELL_M, Grid, count_in_cells, to_metres
from app.scoring.near_repeat import project
from app.scoring.pai import pai_pei
from app.scoring.risk_terrain import (
    BLOCK_M,
    DEFAULT_BANDS_M,
    RiskTerrain,
    fit_rtm,
    rtm_features,
)

RECOVERY_SPEC = PlantedSpec(factor_radius_m=BLOCK_M, factor_cell_m=DEFAULT_CELL_M)


@dataclass(frozen=True)
class RtmRecovery:
    seed: int
    signal: bool
    events: int
    cells: int
    planted_rr: dict[str, float]  # type -> RR of the truth (1: no planted effect)
    retained: dict[str, tuple[str, float, float, float]]  # type -> feature, rr, low, high
    model: RiskTerrain
    pai: pd.DataFrame  # PAI/PEI of the top 5/10/20 % cells on the later 12 months
    seconds: float  # features + fit

    def covered(self, layer: str) -> bool:
        if layer not in self.retained:
            return False
        _, _, low, high = self.retained[layer]
        return low <= self.planted_rr[layer] <= high


def trend_free_counts(world: DemoWorld, *, later: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """x, y (metres) of the DMCS complaints before the planted trend period (`later`: of
    the trend period, the held-out test period of PAI/PEI)."""
    truth = world.truth
    cut = truth.trend.trend[0] if truth.trend is not None else truth.window[1]
    c = world.complaints
    day = c["occurred_at"].dt.date
    c = c[c["category"].isin(sorted(world.sources.dmcs_codes)) & ((day >= cut) == later)]
    return project(c["lon"].to_numpy(), c["lat"].to_numpy())


def factor_layers(world: DemoWorld) -> dict[str, np.ndarray]:
    """type -> (n, 2) metres of the real risk factors of that type (every demo type)."""
    real = world.risk_factors[world.risk_factors["real"]]
    out = {}
    for layer in sorted(world.truth.factor_rr):
        rows = real[real["type"] == layer]
        x, y = project(rows["lon"].to_numpy(), rows["lat"].to_numpy())
        out[layer] = np.column_stack((x, y))
    return out


def residents_per_cell(sources: DemoSources, grid: Grid) -> np.ndarray:
    """Residents per cell as the demo spreads them (see `residents_and_units`)."""
    return residents_and_units(sources, grid)[0]


def residents_and_units(sources: DemoSources, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Residents per cell as the demo spreads them: each non-rural area's population
    uniformly over its residential part (its census blocks), cut by the cells; and each
    cell's unit (micro-barrio, or barrio without them): the one with most residents in it
    ("" for a cell nobody lives in). Rural areas (hamlets around named sectors) are left
    out: their residents are not on the blocks."""
    key = f"rtm_residents_{grid.cell_m:g}"
    if key not in sources.cache:
        boxes = grid.boxes()
        tree = shapely.STRtree(boxes)
        out = np.zeros(grid.size)
        most = np.zeros(grid.size)
        unit = np.full(grid.size, "", dtype=object)
        for area in build_areas(sources):
            if area.rural or area.population <= 0:
                continue
            residential = to_metres(area.residential, grid.crs)
            hit = tree.query(residential, predicate="intersects")
            share = shapely.area(shapely.intersection(boxes[hit], residential)) / residential.area
            np.add.at(out, hit, area.population * share)
            larger = area.population * share > most[hit]
            most[hit[larger]] = area.population * share[larger]
            unit[hit[larger]] = area.micro_barrio or area.barrio
        sources.cache[key] = (out, unit)
    cached: tuple[np.ndarray, np.ndarray] = sources.cache[key]
    return cached


def recover(
    sources: DemoSources,
    *,
    seed: int,
    end: date,
    signal: bool = True,
    bands_m: tuple[float, ...] = DEFAULT_BANDS_M,
    exposure: bool = True,
    strata: bool = True,
    spec: PlantedSpec = RECOVERY_SPEC,
) -> RtmRecovery:
    world = simulate(sources, seed=seed, end=end, years=3, signal=signal, spec=spec)
    grid = settled_grid(sources)
    x, y = trend_free_counts(world)
    started = time.perf_counter()
    counts = count_in_cells(grid, x, y).counts
    features = rtm_features(grid, factor_layers(world), bands_m)
    residents, units = residents_and_units(sources, grid)
    model = fit_rtm(
        counts,
        features,
        seed,
        exposure=residents if exposure else None,
        strata=units if strata else None,
    )
    seconds = time.perf_counter() - started
    later = count_in_cells(grid, *trend_free_counts(world, later=True)).counts
    pai = pai_pei(model.score, later, grid.cell_m**2)
    retained = {
        layer: (str(r.feature), float(r.rr), float(r.ic_inf), float(r.ic_sup))
        for layer, r in model.table.iterrows()
    }
    return RtmRecovery(
        seed=seed,
        signal=signal,
        events=int(counts.sum()),
        cells=grid.size,
        planted_rr=dict(world.truth.factor_rr),
        retained=retained,
        model=model,
        pai=pai,
        seconds=seconds,
    )
