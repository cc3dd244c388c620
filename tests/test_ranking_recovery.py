"""The ranking finds what the demo planted, and nothing in the null world (issue #16).

A few seeds here (each world and ranking takes about a tenth of a second); the sweep over
40 seeds is `python -m bench.ranking_recovery`, with its figures in docs/metodologia.md.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.demo.planted import PlantedSpec
from app.demo.recovery import recover
from app.demo.sources import DemoSources, sources_from_files
from tests.scoring.factories import REPO

END = date(2025, 12, 1)
SEEDS = range(1, 9)


@pytest.fixture(scope="module")
def sources() -> DemoSources:
    return sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")


def test_planted_high_rate_micro_barrios_reach_the_top_classes(sources: DemoSources) -> None:
    found = [recover(sources, seed=seed, end=END).elevated_in_top for seed in SEEDS]

    assert sum(found) >= 7, found


def test_the_null_world_has_no_critical_place_with_high_probability(sources: DemoSources) -> None:
    null = [recover(sources, seed=seed, end=END, signal=False) for seed in SEEDS]

    assert all(not r.critical_with_high_probability for r in null)
    assert all(not r.other_trend_flagged for r in null)
    # and most of the weight is stated as carrying no signal
    assert sum(r.weight_without_signal for r in null) / len(null) >= 80


def test_the_planted_trend_is_flagged_and_nothing_else(sources: DemoSources) -> None:
    # the demo's rise (x6, >= 95 % power at these counts): the goal is >= 90 % of seeds
    runs = [recover(sources, seed=seed, end=END) for seed in SEEDS]

    assert all(r.trend_power is not None and r.trend_power >= 0.8 for r in runs)
    assert sum(r.trend_flagged and not r.other_trend_flagged for r in runs) >= 7


def test_the_trend_is_found_as_often_as_its_counts_allow(sources: DemoSources) -> None:
    # at x2.5 Lanco's micro-barrio counts give the test little power; the detection over
    # seeds must follow the power computed from the planted truth, so a weak result is the
    # data's limit, not a broken test (docs/metodologia.md, M2.10)
    spec = PlantedSpec(trend_ratio=2.5)
    runs = [recover(sources, seed=seed, end=END, spec=spec) for seed in range(1, 21)]
    powers = [r.trend_power for r in runs]
    assert all(p is not None and 0 < p < 1 for p in powers)
    expected = sum(p for p in powers if p is not None)
    spread = sum(p * (1 - p) for p in powers if p is not None) ** 0.5
    observed = sum(r.trend_flagged for r in runs)
    assert abs(observed - expected) <= 3 * spread + 1, (observed, expected)
    assert expected < 0.5 * len(runs)  # and the power really is low at x2.5


def test_grid_hot_spots_on_counts_would_break_the_null_world_against_residents_not(
    sources: DemoSources,
) -> None:
    """The comparison behind keeping the polygon Gi* (docs/metodologia.md, grid hot spots):
    hot_share from Gi* on cell counts gives null worlds a firm "crítico" (39 of 40 seeds in
    the sweep); against the residents it behaves as the polygon Gi* (2 of 40)."""
    seeds = (1, 2, 3)
    counts = [recover(sources, seed=s, end=END, signal=False, hotspot="grilla") for s in seeds]
    relative = [
        recover(sources, seed=s, end=END, signal=False, hotspot="grilla_residentes") for s in seeds
    ]
    assert sum(bool(r.critical_with_high_probability) for r in counts) >= 2
    assert not any(r.critical_with_high_probability for r in relative)


def test_the_grid_variable_enters_the_input_fingerprint_only_when_given(
    sources: DemoSources,
) -> None:
    from dataclasses import replace  # noqa: PLC0415

    import pandas as pd  # noqa: PLC0415

    from app.demo.inputs import ranking_inputs  # noqa: PLC0415
    from app.demo.recovery import LEVEL, grid_variable  # noqa: PLC0415
    from app.demo.world import simulate  # noqa: PLC0415
    from app.scoring import DEFAULT_PROFILES, Period, UnitInputs, contiguity_weights  # noqa: PLC0415
    from app.scoring.hotspots import HotSpotParams  # noqa: PLC0415
    from app.scoring.snapshot import input_fingerprint  # noqa: PLC0415

    world = simulate(sources, seed=1, end=END, years=2)
    end = world.truth.window[1]
    period = Period(start=end.replace(year=end.year - 1), end=end)
    profile = DEFAULT_PROFILES[LEVEL]
    table = ranking_inputs(world, level=LEVEL, period=period, profile=profile)
    geometry = pd.Series({m.code: m.geom for m in sources.micro_barrios}, dtype=object)
    inputs = UnitInputs.build(table, weights=contiguity_weights(geometry.reindex(table.index)))
    grid = replace(inputs, grid_hotspot=grid_variable(world, period, "grilla_residentes"))
    params = HotSpotParams()
    plain = input_fingerprint(inputs, profile, period, LEVEL, params)
    assert plain == input_fingerprint(
        UnitInputs.build(table, weights=inputs.weights), profile, period, LEVEL, params
    )
    assert input_fingerprint(grid, profile, period, LEVEL, params) != plain
