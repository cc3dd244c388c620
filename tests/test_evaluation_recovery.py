"""The intervention evaluation finds the planted drop, and nothing in the null world (#18).

A few seeds here; the sweep over 20+ seeds and three settings is `python -m
bench.evaluation_recovery`, with its figures in docs/benchmarks.md.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from app.demo.evaluation_recovery import (
    DISPLACED,
    PLANTED,
    SCENARIOS,
    evaluate_world,
    world_counts,
)
from app.demo.sources import DemoSources, sources_from_files
from app.demo.world import simulate
from tests.scoring.factories import REPO

END = date(2025, 12, 1)
SEEDS = range(1, 6)
LONG = SCENARIOS[1]  # 300 m, 730 days, every hour: enough complaints to see something


@pytest.fixture(scope="module")
def sources() -> DemoSources:
    return sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")


def _world(sources: DemoSources, seed: int, *, signal: bool = True, displaced: bool = False):  # type: ignore[no-untyped-def]
    base = DISPLACED if displaced else PLANTED
    return simulate(sources, seed=seed, end=END, years=6, signal=signal, spec=LONG.spec(base))


def test_the_planted_project_removes_about_forty_percent_after_its_date(
    sources: DemoSources,
) -> None:
    world = _world(sources, 1)
    iv = world.intervention
    assert iv is not None
    assert iv.drop == 0.4
    truth = world.truth.as_dict()["intervention"]
    assert truth["expected_irr"] == pytest.approx(0.6)
    assert truth["removed"] == iv.removed > 0
    null = _world(sources, 1, signal=False)
    assert null.intervention is not None
    assert (null.intervention.removed, null.intervention.drop) == (0, 0.0)
    assert (null.intervention.lon, null.intervention.lat) == (iv.lon, iv.lat)  # same project
    # the same world without the drop (same streams): the treated area keeps about 60 % of
    # its complaints after the date, and nothing changes before it
    untouched = simulate(
        sources, seed=1, end=END, years=6, spec=replace(LONG.spec(PLANTED), intervention_drop=0.0)
    )
    counts = world_counts(world, LONG.request, night_only=False)
    before = world_counts(untouched, LONG.request, night_only=False)
    k = counts.bins_before
    after, base = counts.estimation(counts.treated), before.estimation(before.treated)
    assert after[:k].sum() == base[:k].sum()
    kept = after[k:].sum() / base[k:].sum()
    assert 0.5 < kept < 0.7, kept


def test_signal_world_right_sign_and_covered(sources: DemoSources) -> None:
    runs = [evaluate_world(_world(sources, s), LONG.request, night_only=False) for s in SEEDS]
    assert all(r.refused is None for r in runs)
    assert sum(r.covered for r in runs) >= 4, [(r.low, r.high) for r in runs]
    assert sum(r.right_sign for r in runs) >= 4, [r.irr for r in runs]


def test_null_world_finds_nothing(sources: DemoSources) -> None:
    runs = [
        evaluate_world(_world(sources, s, signal=False), LONG.request, night_only=False)
        for s in SEEDS
    ]
    assert all(r.refused is None for r in runs)
    assert not any(r.significant for r in runs), [r.p_value for r in runs]
    assert sum(r.covered for r in runs) >= 4


def test_planted_displacement_pushes_the_ring_up(sources: DemoSources) -> None:
    plain = [evaluate_world(_world(sources, s), LONG.request, night_only=False) for s in SEEDS]
    moved = [
        evaluate_world(_world(sources, s, displaced=True), LONG.request, night_only=False)
        for s in SEEDS
    ]
    assert all(r.moved > 0 for r in moved)
    ring_plain = np.array([r.ring_irr for r in plain], dtype=float)
    ring_moved = np.array([r.ring_irr for r in moved], dtype=float)
    assert (ring_moved > ring_plain).all(), (ring_plain, ring_moved)
