"""Whole rankings: reproducibility, fingerprints, periods and the crime-variable property."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libpysal.weights import W

from app.scoring import (
    BARRIO_PROFILE_V1,
    MICRO_BARRIO_PROFILE_V1,
    Period,
    ScoringInputError,
    ScoringProfile,
    UnitInputs,
    compute_ranking,
    contiguity_weights,
)
from app.scoring.variables import compute_variables
from tests.scoring.factories import make_table

PERIOD = Period(date(2025, 1, 1), date(2026, 1, 1))
AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def micro_inputs(lanco_micro: tuple[pd.Series, pd.Series], **columns: object) -> UnitInputs:
    population, geometry = lanco_micro
    return UnitInputs.build(make_table(population=population, **columns), geometry=geometry)


def test_lanco_micro_barrio_ranking_is_complete_and_consistent(
    lanco_micro: tuple[pd.Series, pd.Series],
) -> None:
    ranking = compute_ranking(
        micro_inputs(lanco_micro), MICRO_BARRIO_PROFILE_V1, PERIOD, "micro_barrio", computed_at=AT
    )
    table = ranking.table

    assert sorted(table["rank"]) == list(range(1, 20))
    assert table["score"].is_monotonic_decreasing
    contrib = table[[c for c in table.columns if c.startswith("contrib_")]]
    np.testing.assert_allclose(contrib.sum(axis=1), table["score"], atol=1e-9)
    assert table["score"].between(0, 100).all()
    assert set(table["class"]) <= {"crítico", "alto", "medio", "bajo"}
    assert table.iloc[0]["class"] == "crítico"
    assert {"gi_z", "gi_p_sim", "gi_hot", "gi_island"} <= set(table.columns)


def test_records_and_metadata_are_json_and_cite_everything(
    lanco_micro: tuple[pd.Series, pd.Series],
) -> None:
    ranking = compute_ranking(
        micro_inputs(lanco_micro), MICRO_BARRIO_PROFILE_V1, PERIOD, "micro_barrio", computed_at=AT
    )

    records = json.loads(json.dumps(ranking.to_records()))
    meta = json.loads(json.dumps(ranking.metadata()))

    assert [r["rank"] for r in records] == list(range(1, 20))
    first = records[0]
    assert isinstance(first["unit"], str)
    assert isinstance(first["gi_hot"], bool)
    assert first["score"] == pytest.approx(
        sum(v for k, v in first.items() if k.startswith("contrib_")), abs=1e-5
    )
    assert meta["profile"]["name"] == "vigia-micro-barrio"
    assert meta["profile"]["version"] == 1
    assert meta["period"] == {"start": "2025-01-01", "end": "2026-01-01"}
    assert meta["computed_at"] == "2026-01-05T12:00:00+00:00"
    assert meta["hotspot"] == {"seed": 20965, "permutations": 999, "alpha": 0.05}
    assert len(meta["input_fingerprint"]) == 64
    assert "esda" in meta["software"]


def test_barrio_profile_needs_no_geometry(lanco_barrios: tuple[pd.Series, pd.Series]) -> None:
    population, _ = lanco_barrios
    inputs = UnitInputs.build(make_table(population=population))

    ranking = compute_ranking(inputs, BARRIO_PROFILE_V1, PERIOD, "barrio", computed_at=AT)

    assert ranking.table["contrib_hotspot"].eq(0).all()
    assert ranking.table["raw_hotspot"].isna().all()  # not computed, and shown as such
    assert ranking.hotspot_params is None


def test_hotspot_weight_without_geometry_is_an_error(
    lanco_micro: tuple[pd.Series, pd.Series],
) -> None:
    population, _ = lanco_micro
    inputs = UnitInputs.build(make_table(population=population))

    with pytest.raises(ScoringInputError, match="hotspot"):
        compute_ranking(inputs, MICRO_BARRIO_PROFILE_V1, PERIOD, "micro_barrio")


def test_weighted_external_variable_must_be_present(
    lanco_micro: tuple[pd.Series, pd.Series],
) -> None:
    profile = ScoringProfile(name="ivs", version=1, weights={"dmcs_rate": 1, "ext_ivs": 1})

    with pytest.raises(ScoringInputError, match="ext_ivs"):
        compute_ranking(micro_inputs(lanco_micro), profile, PERIOD, "micro_barrio")


def test_external_variable_enters_the_score(lanco_micro: tuple[pd.Series, pd.Series]) -> None:
    population, _ = lanco_micro
    ivs = pd.Series(0.1, index=population.index)
    ivs["B03001-05"] = 0.9
    profile = ScoringProfile(name="solo-ivs", version=1, weights={"ext_ivs": 1})

    ranking = compute_ranking(
        micro_inputs(lanco_micro, ext_ivs=ivs), profile, PERIOD, "micro_barrio"
    )

    assert ranking.table.index[0] == "B03001-05"
    assert ranking.table.loc["B03001-05", "score"] == 100.0


def test_unknown_level_is_rejected(lanco_micro: tuple[pd.Series, pd.Series]) -> None:
    with pytest.raises(ScoringInputError, match="nivel desconocido"):
        compute_ranking(micro_inputs(lanco_micro), MICRO_BARRIO_PROFILE_V1, PERIOD, "comuna")


def test_default_period_is_the_last_twelve_whole_months() -> None:
    period = Period.last_months(today=date(2026, 3, 17))

    assert period == Period(date(2025, 3, 1), date(2026, 3, 1))
    assert period.previous() == Period(date(2024, 3, 1), date(2025, 3, 1))
    assert Period(date(2025, 1, 10), date(2025, 1, 20)).previous() == Period(
        date(2024, 12, 31), date(2025, 1, 10)
    )
    with pytest.raises(ScoringInputError):
        Period(date(2025, 1, 1), date(2025, 1, 1))


def test_given_weights_in_another_order_give_the_same_numbers(
    lanco_micro: tuple[pd.Series, pd.Series],
) -> None:
    population, geometry = lanco_micro
    table = make_table(population=population)
    from_geometry = UnitInputs.build(table, geometry=geometry)
    queen = contiguity_weights(geometry)
    reversed_ids = W(
        dict(queen.neighbors), id_order=list(reversed(queen.id_order)), silence_warnings=True
    )
    assert reversed_ids.id_order != from_geometry.weights.id_order  # type: ignore[union-attr]

    one = compute_ranking(from_geometry, MICRO_BARRIO_PROFILE_V1, PERIOD, "micro_barrio")
    two = compute_ranking(
        UnitInputs.build(table, weights=reversed_ids),
        MICRO_BARRIO_PROFILE_V1,
        PERIOD,
        "micro_barrio",
    )

    assert one.input_fingerprint == two.input_fingerprint
    pd.testing.assert_frame_equal(one.table, two.table)


# --- properties -------------------------------------------------------------------------------

counts = st.lists(st.integers(0, 40), min_size=19, max_size=19)


@settings(max_examples=25, deadline=None)
@given(dmcs=counts, seed=st.integers(0, 10_000))
def test_same_inputs_and_profile_give_the_same_snapshot(
    lanco_micro: tuple[pd.Series, pd.Series], dmcs: list[int], seed: int
) -> None:
    population, geometry = lanco_micro
    table = make_table(population=population, seed=seed, dmcs_count=dmcs)
    shuffled = table.sample(frac=1.0, random_state=seed)[table.columns[::-1]]

    first = compute_ranking(
        UnitInputs.build(table, geometry=geometry), MICRO_BARRIO_PROFILE_V1, PERIOD, "micro_barrio"
    )
    again = compute_ranking(
        UnitInputs.build(shuffled, geometry=geometry.iloc[::-1]),
        MICRO_BARRIO_PROFILE_V1,
        PERIOD,
        "micro_barrio",
    )

    assert first.input_fingerprint == again.input_fingerprint
    assert first.result_fingerprint == again.result_fingerprint
    pd.testing.assert_frame_equal(first.table, again.table)


@settings(max_examples=25, deadline=None)
@given(dmcs=counts, unit=st.integers(0, 18))
def test_different_inputs_profile_or_period_change_the_fingerprint(
    lanco_micro: tuple[pd.Series, pd.Series], dmcs: list[int], unit: int
) -> None:
    population, geometry = lanco_micro
    table = make_table(population=population, dmcs_count=dmcs)
    base = UnitInputs.build(table, geometry=geometry)
    changed = table.copy()
    changed.iloc[unit, changed.columns.get_loc("dmcs_count")] += 1
    revised = MICRO_BARRIO_PROFILE_V1.revise(weights=dict(MICRO_BARRIO_PROFILE_V1.weights))

    reference = compute_ranking(base, MICRO_BARRIO_PROFILE_V1, PERIOD, "micro_barrio")
    others = [
        compute_ranking(
            UnitInputs.build(changed, geometry=geometry),
            MICRO_BARRIO_PROFILE_V1,
            PERIOD,
            "micro_barrio",
        ),
        compute_ranking(base, revised, PERIOD, "micro_barrio"),
        compute_ranking(base, MICRO_BARRIO_PROFILE_V1, PERIOD.previous(), "micro_barrio"),
    ]

    assert all(o.input_fingerprint != reference.input_fingerprint for o in others)


@settings(max_examples=60, deadline=None)
@given(dmcs=counts, unit=st.integers(0, 18), extra=st.integers(1, 5))
def test_adding_complaints_in_a_unit_never_lowers_its_crime_variable(
    lanco_micro: tuple[pd.Series, pd.Series], dmcs: list[int], unit: int, extra: int
) -> None:
    population, _ = lanco_micro
    table = make_table(population=population, dmcs_count=dmcs)
    more = table.copy()
    column = more.columns.get_loc("dmcs_count")
    more.iloc[unit, column] += extra
    code = table.index[unit]

    before = compute_variables(UnitInputs.build(table), require_hotspot=False).raw
    after = compute_variables(UnitInputs.build(more), require_hotspot=False).raw

    assert after.loc[code, "dmcs_rate"] >= before.loc[code, "dmcs_rate"] - 1e-9
