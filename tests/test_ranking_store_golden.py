"""The stored unit rows of a ranking, pinned (no database: the rows as they are inserted)."""

from __future__ import annotations

import hashlib
import json
import uuid

import numpy as np
import pandas as pd

from app.rankings.inputs import AggregatedInputs
from app.rankings.store import inputs_document, unit_rows
from app.scoring import compute_ranking
from tests.scoring.test_golden import GRID_PROFILE, PERIOD, grid_inputs

SNAPSHOT = uuid.UUID("00000000-0000-4000-8000-000000020965")
PINNED_ROWS = "fc832958a74adaa4cba0f6644fff374e69eba82c782a0af3eb7224bd0b38a889"
PINNED_DOCUMENT = "d102c6c403ed2fff8fb47f98eb6cc4f2209a2dc7d6c6de536ab96ab56b5cab19"


def _aggregated() -> AggregatedInputs:
    inputs = grid_inputs()
    table = inputs.table
    codes = list(table.index)
    population = table["population"].where(table["population"] > 0)
    units = pd.DataFrame(
        {
            "id": np.arange(1, len(codes) + 1),
            "name": [f"Micro-barrio {c}" for c in codes],
            "population": population.astype("Int64"),
            "population_estimated": [i % 3 == 0 for i in range(len(codes))],
        },
        index=codes,
    )
    factors = pd.DataFrame(
        {
            "unit": codes[:4],
            "type_code": ["luminaria", "sitio_eriazo", "luminaria", "microbasural"],
            "severity": [3, 4, 5, 2],
            "days_open": [10, 200, 0, 45],
            "expected_days": [30, None, 15, 60],
        }
    )
    return AggregatedInputs(
        table=table, units=units, factors=factors, ignored_factor_types=["otro"]
    )


def _digest(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, allow_nan=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def test_unit_rows_and_inputs_document_are_pinned() -> None:
    inputs = grid_inputs()
    aggregated = _aggregated()
    ranking = compute_ranking(inputs, GRID_PROFILE, PERIOD, "micro_barrio")

    rows = unit_rows(ranking, SNAPSHOT, aggregated)

    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))
    assert _digest(rows) == PINNED_ROWS
    assert _digest(inputs_document(inputs, aggregated)) == PINNED_DOCUMENT
