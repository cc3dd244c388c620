"""The input contract: validation in Spanish, risk-factor load, external CSV."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from app.scoring import ScoringInputError, UnitInputs, load_external_csv, risk_factor_load
from tests.scoring.factories import make_table

POPULATION = pd.Series([400, 1000, 250], index=["A", "B", "C"])


def problems_of(error: ScoringInputError) -> set[tuple[str, str | None]]:
    return {(str(p.get("field")), p.get("code")) for p in error.errors}


def test_valid_table_is_sorted_by_code_and_float() -> None:
    table = make_table(population=POPULATION).iloc[::-1]

    inputs = UnitInputs.build(table)

    assert inputs.codes == ["A", "B", "C"]
    assert all(dtype == np.float64 for dtype in inputs.table.dtypes)
    assert inputs.weights is None


def test_every_broken_rule_is_reported_with_its_unit() -> None:
    table = make_table(
        population=POPULATION,
        dmcs_count=[1, -2, 3],
        drug_trafficking_count=[0, 1.5, 0],
        violent_count=[50, 0, 0],
        total_count=[10, 10, 10],
        risk_factor_load=[0, 0, "mucho"],
    )

    with pytest.raises(ScoringInputError) as caught:
        UnitInputs.build(table)

    assert problems_of(caught.value) == {
        ("dmcs_count", "B"),
        ("drug_trafficking_count", "B"),
        ("violent_count", "A"),
        ("risk_factor_load", "C"),
    }
    reasons = {p["reason"] for p in caught.value.errors}
    assert "el valor no puede ser negativo" in reasons
    assert "un conteo debe ser entero" in reasons


def test_missing_and_unknown_columns() -> None:
    table = make_table(population=POPULATION).drop(columns=["dmcs_count_prev"])
    table["robos"] = 1

    with pytest.raises(ScoringInputError) as caught:
        UnitInputs.build(table)

    assert problems_of(caught.value) == {("dmcs_count_prev", None), ("robos", None)}


def test_duplicated_codes_are_rejected() -> None:
    table = make_table(population=pd.Series([1, 2], index=["A", "A"]))

    with pytest.raises(ScoringInputError) as caught:
        UnitInputs.build(table)

    assert problems_of(caught.value) == {("unit", "A")}


def test_unknown_population_becomes_zero_and_missing_external_is_rejected() -> None:
    table = make_table(population=pd.Series([400.0, None, 250.0], index=["A", "B", "C"]))

    assert UnitInputs.build(table).table.loc["B", "population"] == 0.0

    table["ext_ivs"] = [0.2, None, 0.4]
    with pytest.raises(ScoringInputError) as caught:
        UnitInputs.build(table)
    assert problems_of(caught.value) == {("ext_ivs", "B")}


def test_geometry_must_cover_every_unit(lanco_micro: tuple[pd.Series, pd.Series]) -> None:
    population, geometry = lanco_micro
    table = make_table(population=population)

    with pytest.raises(ScoringInputError) as caught:
        UnitInputs.build(table, geometry=geometry.drop("B03001-05"))

    assert problems_of(caught.value) == {("geometry", "B03001-05")}


def test_weights_must_match_the_units(lanco_micro: tuple[pd.Series, pd.Series]) -> None:
    population, geometry = lanco_micro
    weights = UnitInputs.build(make_table(population=population), geometry=geometry).weights

    with pytest.raises(ScoringInputError, match="no corresponden"):
        UnitInputs.build(make_table(population=population.iloc[:5]), weights=weights)


FACTORS = pd.DataFrame(
    {
        "unit": ["A", "A", "B", "B"],
        "type_code": ["luminaria", "microbasural", "luminaria", "sitio_eriazo"],
        "severity": [5, 2, 3, 4],
        "days_open": [10, 90, 100, 400],
        "expected_days": [15, 30, 50, None],
    }
)
TYPE_WEIGHTS = {"luminaria": 1.0, "microbasural": 0.5, "sitio_eriazo": 0.8}


def test_risk_factor_load_matches_hand_computation() -> None:
    # A: 1.0*5/5*(1+0) + 0.5*2/5*(1+min(90/30-1, 2)) = 1 + 0.2*3 = 1.6
    # B: 1.0*3/5*(1+min(100/50-1, 2)) + 0.8*4/5*(1+0, no deadline) = 1.2 + 0.64 = 1.84
    load = risk_factor_load(FACTORS, TYPE_WEIGHTS, units=["A", "B", "C"])

    assert load.to_dict() == pytest.approx({"A": 1.6, "B": 1.84, "C": 0.0})


def test_overdue_multiplier_is_capped_at_three() -> None:
    factor = FACTORS.iloc[[0]].assign(days_open=10_000)

    assert risk_factor_load(factor, TYPE_WEIGHTS)["A"] == pytest.approx(3.0)


def test_risk_factor_problems_name_the_row() -> None:
    bad = FACTORS.assign(type_code=["luminaria", "otro", "luminaria", "luminaria"])
    bad.loc[2, "severity"] = 9

    with pytest.raises(ScoringInputError) as caught:
        risk_factor_load(bad, TYPE_WEIGHTS)

    assert {(p["field"], p["row"]) for p in caught.value.errors} == {
        ("type_code", 2),
        ("severity", 3),
    }


def test_external_csv_gets_the_prefix() -> None:
    csv = io.StringIO("unit,ivs,ext_percepcion\nB01001-01,0.31,4.2\nB01001-02,0.12,5.0\n")

    frame = load_external_csv(csv)

    assert list(frame.columns) == ["ext_ivs", "ext_percepcion"]
    assert frame.loc["B01001-01", "ext_ivs"] == 0.31


def test_external_csv_with_a_blank_value_is_rejected() -> None:
    csv = io.StringIO("unidad,ivs\nB01001-01,\nB01001-02,abc\n")

    with pytest.raises(ScoringInputError) as caught:
        load_external_csv(csv, unit_column="unidad")

    assert problems_of(caught.value) == {("ivs", "B01001-01"), ("ivs", "B01001-02")}
