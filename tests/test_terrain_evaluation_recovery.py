"""An evaluation on the risk terrain's top cells finds a drop planted there, and nothing in
the null world (#17, item 6). A few seeds; the sweep is `python -m
bench.terrain_evaluation_recovery`, its figures in docs/benchmarks.md."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from app.demo.grid_recovery import settled_grid
from app.demo.sources import DemoSources, sources_from_files
from app.demo.terrain_evaluation import (
    REQUEST,
    SPEC,
    YEARS,
    event_date,
    plant_drop,
    recover,
    terrain_counts,
    top_cells,
)
from app.demo.world import simulate
from app.scoring.pai import cells_in_share
from tests.scoring.factories import REPO

END = date(2025, 12, 1)
SEEDS = range(1, 5)


@pytest.fixture(scope="module")
def sources() -> DemoSources:
    return sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")


def test_the_drop_is_planted_in_the_top_cells_after_the_date_only(sources: DemoSources) -> None:
    world = simulate(sources, seed=1, end=END, years=YEARS, spec=SPEC)
    grid = settled_grid(sources)
    event = event_date(world, REQUEST.window_days)
    cells = top_cells(world, grid, event, 0.05, 1)
    assert len(cells) == cells_in_share(0.05, grid.size)
    dropped, removed = plant_drop(world, grid, cells, event, 0.4, 1)
    assert removed > 0
    untouched = terrain_counts(world, grid, cells, event, REQUEST)
    planted = terrain_counts(dropped, grid, cells, event, REQUEST)
    k = REQUEST.bins
    before, after = untouched.estimation(untouched.treated), planted.estimation(planted.treated)
    assert (after[:k] == before[:k]).all()  # nothing changes before the date
    assert 0.4 < after[k:].sum() / before[k:].sum() < 0.8  # about 60 % kept after it
    assert (planted.catchment == untouched.catchment).all()  # nor outside the cells
    for code, series in untouched.candidates.items():
        assert np.array_equal(planted.candidates[code], series)


def test_planted_irr_inside_the_interval_and_nothing_in_the_null_world(
    sources: DemoSources,
) -> None:
    signal = [recover(sources, seed=s, end=END, share=0.05) for s in SEEDS]
    null = [recover(sources, seed=s, end=END, share=0.05, drop=0.0) for s in SEEDS]
    assert all(r.refused is None for r in [*signal, *null]), [r.refused for r in signal]
    assert sum(r.covered for r in signal) >= 3, [(r.low, r.high) for r in signal]
    assert sum(r.right_sign for r in signal) >= 3, [r.irr for r in signal]
    assert not any(r.significant for r in null), [r.p_value for r in null]
    assert sum(r.covered for r in null) >= 3
    # the same seeds: the planted world's estimate is below the null world's in every seed
    assert all(s.irr < n.irr for s, n in zip(signal, null, strict=True))
