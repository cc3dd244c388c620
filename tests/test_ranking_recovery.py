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


def test_a_strong_planted_trend_is_flagged_and_hardly_anything_else(sources: DemoSources) -> None:
    spec = PlantedSpec(trend_ratio=5.0)
    runs = [recover(sources, seed=seed, end=END, spec=spec) for seed in SEEDS]

    assert sum(r.trend_flagged for r in runs) >= 6
    assert sum(bool(r.other_trend_flagged) for r in runs) <= 1
