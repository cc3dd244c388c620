"""The planted truth of the demo data: what the truth document says is what the data show.

Pure tests on `simulate` (no database), then the ranking input table against the database
aggregation of the same world, then the CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.demo.inputs import ranking_inputs
from app.demo.places import LocalProjection
from app.demo.planted import PlantedSpec
from app.demo.sources import DemoSources, sources_from_files
from app.demo.world import DemoWorld, simulate
from app.scoring import (
    BARRIO_PROFILE_V1,
    DEFAULT_PROFILES,
    MICRO_BARRIO_PROFILE_V1,
    Period,
    UnitInputs,
)
from tests.conftest import LANCO_FILE, REPO

END = date(2024, 12, 1)
SEEDS = (1, 2, 3, 4)


@pytest.fixture(scope="module")
def sources() -> DemoSources:
    return sources_from_files(LANCO_FILE, REPO / "data")


@pytest.fixture(scope="module")
def worlds(sources: DemoSources) -> dict[tuple[int, bool], DemoWorld]:
    return {
        (seed, signal): simulate(sources, seed=seed, end=END, years=3, signal=signal)
        for seed in SEEDS
        for signal in (True, False)
    }


def _dmcs(world: DemoWorld) -> pd.DataFrame:
    frame = world.complaints
    return frame[frame["category"].isin(sorted(world.sources.dmcs_codes))]


def test_same_seed_same_world_other_seed_other_world(sources: DemoSources) -> None:
    first = simulate(sources, seed=7, end=END, years=2)
    again = simulate(sources, seed=7, end=END, years=2)
    other = simulate(sources, seed=8, end=END, years=2)
    pd.testing.assert_frame_equal(first.complaints, again.complaints)
    pd.testing.assert_frame_equal(first.risk_factors, again.risk_factors)
    assert first.truth.to_json() == again.truth.to_json()
    assert not np.array_equal(first.complaints["lon"], other.complaints["lon"])
    assert first.truth.to_json() != other.truth.to_json()


def test_volumes_follow_cead_and_the_signal_only_moves_places(
    worlds: dict[tuple[int, bool], DemoWorld], sources: DemoSources
) -> None:
    signal, null = worlds[1, True], worlds[1, False]
    month = signal.complaints["occurred_at"].dt.strftime("%Y-%m")
    counts = signal.complaints.groupby([month, "category"]).size()
    null_month = null.complaints["occurred_at"].dt.strftime("%Y-%m")
    pd.testing.assert_series_equal(counts, null.complaints.groupby([null_month, "category"]).size())
    assert not np.array_equal(signal.complaints["lon"], null.complaints["lon"])
    generated = set(month)
    for series, codes in sources.leaves.items():
        for first, value in sources.monthly.get(series, {}).items():
            key = first.strftime("%Y-%m")
            if key in generated:  # inside the series: exactly its count, split over leaves
                got = sum(int(counts.get((key, c), 0)) for c in codes)
                assert got == round(value), (series, key)
    assert set(signal.complaints["category"]) <= {*sources.leaf_shares, *sources.extra_monthly_mean}


def _crude_rates(world: DemoWorld, start: str = "0000", end: str = "9999") -> pd.Series:
    dmcs = _dmcs(world)
    when = dmcs["occurred_at"].dt.strftime("%Y-%m-%d")
    dmcs = dmcs[(when >= start) & (when < end)]
    population = pd.Series({m.code: m.population for m in world.sources.micro_barrios})
    return dmcs.groupby("micro_barrio").size().reindex(population.index, fill_value=0) / population


def test_elevated_units_stand_out_and_the_null_world_has_none(
    worlds: dict[tuple[int, bool], DemoWorld],
) -> None:
    signal_ratio, null_ratio = [], []
    for seed in SEEDS:
        truth = worlds[seed, True].truth
        assert truth.signal
        assert truth.unit_level == "micro_barrio"
        assert 1 <= len(truth.elevated) <= 3
        assert set(truth.elevated.values()) == {3.0}
        assert truth.trend is not None
        assert truth.trend.unit not in truth.elevated
        elevated = sorted(truth.elevated)
        for world, out in ((worlds[seed, True], signal_ratio), (worlds[seed, False], null_ratio)):
            rates = _crude_rates(world, end=truth.trend.trend[0].isoformat())
            out.append(rates[elevated].mean() / rates.drop(elevated).mean())
        expected = truth.expected_relative_rate["micro_barrio"]
        assert min(expected[c]["baseline"] for c in elevated) > 1.5
    assert np.mean(signal_ratio) > 2.0, signal_ratio
    assert 0.7 < np.mean(null_ratio) < 1.3, null_ratio
    null = worlds[1, False].truth
    assert null.elevated == {}
    assert null.trend is None
    assert set(null.factor_rr.values()) == {1.0}
    rates = [
        v
        for units in null.expected_relative_rate.values()
        for r in units.values()
        for v in r.values()
    ]
    assert set(rates) == {1.0}


def test_the_trend_unit_grows_and_no_trend_in_the_null_world(
    worlds: dict[tuple[int, bool], DemoWorld],
) -> None:
    signal_ratio, null_ratio = [], []
    for seed in SEEDS:
        trend = worlds[seed, True].truth.trend
        assert trend is not None
        assert trend.ratio == 6.0
        assert (trend.trend[1] - trend.baseline[0]).days in (730, 731)
        for world, out in ((worlds[seed, True], signal_ratio), (worlds[seed, False], null_ratio)):
            before = _crude_rates(
                world, trend.baseline[0].isoformat(), trend.baseline[1].isoformat()
            )
            after = _crude_rates(world, trend.trend[0].isoformat(), trend.trend[1].isoformat())
            rest = after.drop(trend.unit).sum() / before.drop(trend.unit).sum()
            out.append(after[trend.unit] / max(before[trend.unit], 1e-9) / rest)
    assert np.median(signal_ratio) > 1.8, signal_ratio
    assert np.median(null_ratio) < 1.5, null_ratio


def _near(world: DemoWorld, frame: pd.DataFrame, type_code: str, radius: float) -> np.ndarray:
    projection = LocalProjection(-72.77, -39.45)
    x, y = projection.to_metres(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    points = shapely.points(x, y)
    shapes = [
        projection.geometry(f.shape()) for f in world.factors if f.type == type_code and f.real
    ]
    near = np.zeros(len(frame), dtype=bool)
    for geom in shapes:
        near |= shapely.dwithin(geom, points, radius)
    return near


@pytest.mark.parametrize(
    ("type_code", "low", "high"),
    [("sitio_eriazo", 2.0, 4.5), ("luminaria_apagada", 1.5, 2.7), ("follaje_obstruye", 0.7, 1.6)],
)
def test_complaints_near_factor_types_show_the_planted_excess(
    worlds: dict[tuple[int, bool], DemoWorld], type_code: str, low: float, high: float
) -> None:
    """Direct count: DMCS within the radius of real factors of a type, signal world over the
    null world of the same seed (same volumes, same factors: the null world is the residents'
    denominator), near over far, in the town areas where factors are placed (the rural
    remainder has neither factors nor elevated units, so a comuna-wide far side would credit
    any town feature with the town's excess). Expected: about the planted RR; a type without
    effect shows a little above 1, as factors of every type crowd where residents do and so
    sit near the planted ones (a multivariable model separates them; a count does not)."""
    near_signal = far_signal = near_null = far_null = 0
    for seed in SEEDS:
        radius = worlds[seed, True].truth.factor_radius_m
        for signal in (True, False):
            world = worlds[seed, signal]
            town = _dmcs(world)[_dmcs(world)["micro_barrio"].notna()]
            near = _near(world, town, type_code, radius)
            if signal:
                near_signal, far_signal = near_signal + near.sum(), far_signal + (~near).sum()
            else:
                near_null, far_null = near_null + near.sum(), far_null + (~near).sum()
    ratio = (near_signal / near_null) / (far_signal / far_null)
    assert low < ratio < high, (ratio, near_signal, near_null)
    planted = worlds[1, True].truth.factor_rr[type_code]
    assert (planted > 1) == (low > 1)


def test_truth_document_is_complete_json(worlds: dict[tuple[int, bool], DemoWorld]) -> None:
    world = worlds[2, True]
    document = orjson.loads(world.truth.to_json())
    assert document["seed"] == 2
    assert document["signal"] is True
    assert document["window"] == {"start": "2022-01-01", "end": "2025-01-01"}
    assert {u["code"] for u in document["elevated_units"]} == set(world.truth.elevated)
    assert document["trend"]["unit"] == world.truth.trend.unit  # type: ignore[union-attr]
    assert document["risk_factors"]["relative_risk"]["sitio_eriazo"] == 3.0
    assert document["risk_factors"]["radius_m"] == 120.0
    real = world.risk_factors[world.risk_factors["real"]]
    assert document["risk_factors"]["real_count_by_type"]["sitio_eriazo"] == int(
        (real["type"] == "sitio_eriazo").sum()
    )
    assert document["risk_factors"]["real_count_by_type"]["sitio_eriazo"] >= 2
    assert set(document["signal_categories"]["codes"]) == set(world.sources.dmcs_codes)
    assert set(document["expected_relative_rate"]["micro_barrio"]) == {
        m.code for m in world.sources.micro_barrios
    }


def test_spec_knobs_change_the_plant(sources: DemoSources) -> None:
    spec = PlantedSpec(elevated_units=1, elevated_rr=5.0, factor_rr={}, trend_months=6)
    truth = simulate(sources, seed=3, end=END, years=1, spec=spec).truth
    assert list(truth.elevated.values()) == [5.0]
    assert truth.trend is not None
    assert (truth.trend.trend[1] - truth.trend.trend[0]).days in range(181, 185)
    assert set(truth.factor_rr.values()) == {1.0}


PERIOD = Period(start=date(2024, 1, 1), end=date(2025, 1, 1))


def test_ranking_inputs_equal_the_database_aggregation(db: Session, sources: DemoSources) -> None:
    from app.complaints.ingest import import_complaints
    from app.demo import complaints as demo_data
    from app.demo import risk_factors as demo_risk_factors
    from app.rankings.inputs import aggregate

    world = simulate(sources, seed=5, end=END, years=2, risk_factors=30)
    import_complaints(db, [c.as_row() for c in demo_data.complaint_rows(world)], loaded_by="t")
    demo_risk_factors.submit_plan(db, world.factors, seed=5)
    for level in ("barrio", "micro_barrio"):
        profile = DEFAULT_PROFILES[level]
        pure = ranking_inputs(world, level=level, period=PERIOD, profile=profile)
        stored = aggregate(db, level=level, comuna="14103", period=PERIOD, profile=profile).table
        pd.testing.assert_frame_equal(pure, stored, check_names=False)
        v1 = next(p for p in (BARRIO_PROFILE_V1, MICRO_BARRIO_PROFILE_V1) if p.name == profile.name)
        pure_v1 = ranking_inputs(world, level=level, period=PERIOD, profile=v1)
        stored_v1 = aggregate(db, level=level, comuna="14103", period=PERIOD, profile=v1).table
        pd.testing.assert_frame_equal(pure_v1, stored_v1, check_names=False)
        assert UnitInputs.build(pure).table.shape[0] == len(pure)
        assert pure["dmcs_count"].sum() > 0
        assert pure["dmcs_count_prev"].sum() > 0
        assert pure["risk_factor_load"].sum() > 0


@contextmanager
def _same_session(db: Session) -> Iterator[Session]:
    yield db


def test_cli_no_signal_imports_the_null_world_and_writes_its_truth(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sources: DemoSources
) -> None:
    from app.cli import cli
    from app.complaints import cli as complaints_cli
    from app.demo import cli as demo_cli
    from app.models import Complaint

    monkeypatch.setattr(demo_cli, "transaction", lambda: _same_session(db))
    # the map cells it refreshes at the end, too: never the configured database
    monkeypatch.setattr(complaints_cli, "transaction", lambda: _same_session(db))
    out = tmp_path / "verdad.json"
    arguments = ["demo-data", "--years", "1", "--end", "2024-06", "--seed", "9"]
    run = CliRunner(env={"COLUMNS": "200"}).invoke(
        cli, [*arguments, "--risk-factors", "4", "--no-signal", "--truth-out", str(out)]
    )
    assert run.exit_code == 0, run.output
    assert str(out) in run.output
    document = orjson.loads(out.read_bytes())
    assert document["signal"] is False
    assert document["elevated_units"] == []
    assert document["trend"] is None
    expected = simulate(
        sources, seed=9, end=date(2024, 6, 1), years=1, signal=False, risk_factors=4
    )
    stored = db.scalar(
        select(func.count())
        .select_from(Complaint)
        .where(Complaint.external_ref.like("DEMO-14103-9-%"))
    )
    assert stored == len(expected.complaints)
    assert document == orjson.loads(expected.truth.to_json())
