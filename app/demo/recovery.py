"""Does the ranking find what was planted, and nothing in the null world? (issue #16)

One seed: simulate the demo world (app/demo/world.py), build the ranking's input table for the
last 12 months of the window without a database (app/demo/inputs.py), rank the micro-barrios
with the default profile (method 2), and compare with the truth document:

* `elevated_in_top`: every planted high-rate micro-barrio is classed "crítico" or "alto";
* `critical_with_high_probability`: units classed "crítico" whose bootstrap puts them there
  with probability >= HIGH_PROBABILITY (in the null world, there should be none);
* `trend_flagged` / `other_trend_flagged`: the planted trend unit is a significant rise, and
  no other unit is.

The test (tests/test_ranking_recovery.py) runs a few seeds; `python -m bench.ranking_recovery`
sweeps many and prints the rates recorded in docs/metodologia.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from app.demo.grid_recovery import settled_grid
from app.demo.inputs import ranking_inputs
from app.demo.planted import PlantedSpec, PlantedTruth
from app.demo.rtm_recovery import residents_per_cell
from app.demo.sources import DemoSources
from app.demo.world import DemoWorld, simulate
from app.scoring import (
    DEFAULT_PROFILES,
    Period,
    ScoringProfile,
    UnitInputs,
    compute_ranking,
    contiguity_weights,
)
from app.scoring.grid_hotspots import GridHotShare, count_in_cells, grid_gi_star, hot_share
from app.scoring.method2 import HIGH_PROBABILITY
from app.scoring.near_repeat import project
from app.scoring.trend import rise_detection_power

TOP_CLASSES = ("crítico", "alto")
POLYGONS, GRID, GRID_RESIDENTS = "poligonos", "grilla", "grilla_residentes"
LEVEL = "micro_barrio"


@dataclass(frozen=True)
class Recovery:
    seed: int
    signal: bool
    elevated: tuple[str, ...]
    elevated_in_top: bool
    critical_with_high_probability: tuple[str, ...]
    trend_unit: str | None
    trend_flagged: bool
    other_trend_flagged: tuple[str, ...]
    weight_without_signal: float
    # the test's power to flag the planted rise at this seed's expected counts (None: no trend)
    trend_power: float | None = None


def recover(
    sources: DemoSources,
    *,
    seed: int,
    end: date,
    signal: bool = True,
    spec: PlantedSpec | None = None,
    profile: ScoringProfile | None = None,
    years: int = 3,
    hotspot: str = "poligonos",
) -> Recovery:
    """`hotspot`: the hot-spot variable, the polygon Gi* of method 2 ("poligonos"), or the
    grid's hot_share ("grilla": Gi* on cell counts; "grilla_residentes": on the residuals
    against the residents, see `grid_variable`)."""
    world = simulate(sources, seed=seed, end=end, years=years, signal=signal, spec=spec)
    window_end = world.truth.window[1]
    period = Period(start=window_end.replace(year=window_end.year - 1), end=window_end)
    profile = profile or DEFAULT_PROFILES[LEVEL]
    table = ranking_inputs(world, level=LEVEL, period=period, profile=profile)
    geometry = pd.Series({m.code: m.geom for m in sources.micro_barrios}, dtype=object)
    weights = contiguity_weights(geometry.reindex(table.index))
    inputs = UnitInputs.build(table, weights=weights)
    if hotspot != POLYGONS:
        inputs = replace(inputs, grid_hotspot=grid_variable(world, period, hotspot))
    ranking = compute_ranking(inputs, profile, period, LEVEL)
    ranked = ranking.table
    truth = world.truth
    elevated = tuple(sorted(truth.elevated))
    critical = ranked[(ranked["class"] == "crítico") & (ranked["p_critico"] >= HIGH_PROBABILITY)]
    trend_unit = truth.trend.unit if truth.trend is not None else None
    rising = ranked.index[ranked["trend_rising"].astype(bool)]
    return Recovery(
        seed=seed,
        signal=signal,
        elevated=elevated,
        elevated_in_top=bool(ranked.loc[list(elevated), "class"].isin(TOP_CLASSES).all()),
        critical_with_high_probability=tuple(sorted(critical.index)),
        trend_unit=trend_unit,
        trend_flagged=trend_unit is not None and trend_unit in rising,
        other_trend_flagged=tuple(sorted(u for u in rising if u != trend_unit)),
        weight_without_signal=float(ranking.method_meta["weight_without_signal"]),
        trend_power=None if truth.trend is None else planted_trend_power(table, truth),
    )


def grid_variable(world: DemoWorld, period: Period, hotspot: str) -> GridHotShare:
    """hot_share per micro-barrio from Gi* on the 50 m grid of the period's DMCS
    (app/demo/grid_recovery.py), with the residents per cell as exposure for
    "grilla_residentes"."""
    sources = world.sources
    grid = settled_grid(sources)
    c = world.complaints
    day = c["occurred_at"].dt.date
    c = c[c["category"].isin(sorted(sources.dmcs_codes)) & (day >= period.start)]
    c = c[c["occurred_at"].dt.date < period.end]
    x, y = project(c["lon"].to_numpy(), c["lat"].to_numpy(), grid.crs)
    counts = count_in_cells(grid, x, y).counts
    exposure = residents_per_cell(sources, grid) if hotspot == GRID_RESIDENTS else None
    spots = grid_gi_star(counts, grid, exposure=exposure)
    share = hot_share(grid, spots.hot, {m.code: m.geom for m in sources.micro_barrios})
    return GridHotShare.of(spots, share)


def planted_trend_power(table: pd.DataFrame, truth: PlantedTruth, alpha: float = 0.05) -> float:
    """`rise_detection_power` of the planted trend unit: its expected DMCS count in the
    previous period (the comuna's count shared by residents times the planted relative
    rate), the planted ratio, the comuna's now/before split and alpha / (number of units)."""
    assert truth.trend is not None
    unit = truth.trend.unit
    relative = truth.expected_relative_rate[LEVEL]
    weight = table["population"] * pd.Series({u: r["baseline"] for u, r in relative.items()})
    weight = weight.reindex(table.index).fillna(0.0)
    before_mean = float(table["dmcs_count_prev"].sum() * weight[unit] / weight.sum())
    now, before = float(table["dmcs_count"].sum()), float(table["dmcs_count_prev"].sum())
    p0 = now / (now + before)
    # the test compares with the comuna, whose own count the planted rise pushes up too:
    # relative to it, the unit rose ratio * (others' now/before) / (all now/before)
    others = (now - table.at[unit, "dmcs_count"]) / (before - table.at[unit, "dmcs_count_prev"])
    relative_ratio = truth.trend.ratio * others / (now / before)
    return rise_detection_power(before_mean, relative_ratio, p0, alpha / len(table))
