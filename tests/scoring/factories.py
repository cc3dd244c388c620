"""Keyword-only factories for the scoring tests (plain data, no database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry import shape

REPO = Path(__file__).resolve().parents[2]
LANCO_FILE = REPO / "data" / "barrios.geojson"


def lanco_units(level: str) -> tuple[pd.Series, pd.Series]:
    """(population, geometry) of Lanco's units of `level`, indexed by code."""
    features = json.loads(LANCO_FILE.read_text())["features"]
    chosen = [f for f in features if f["properties"]["level"] == level]
    codes = [f["properties"]["code"] for f in chosen]
    population = pd.Series([f["properties"]["population"] for f in chosen], index=codes)
    geometry = pd.Series([shape(f["geometry"]) for f in chosen], index=codes, dtype=object)
    return population, geometry


def make_table(
    *,
    population: pd.Series,
    seed: int = 7,
    **columns: Any,
) -> pd.DataFrame:
    """A plausible input table for the units of `population`; `columns` override any column."""
    rng = np.random.default_rng(seed)
    n = len(population)
    total = rng.integers(15, 45, n)
    table = pd.DataFrame(
        {
            "population": population.to_numpy(),
            "dmcs_count": rng.integers(2, 20, n),
            "dmcs_count_prev": rng.integers(2, 20, n),
            "drug_trafficking_count": rng.integers(0, 4, n),
            "drug_consumption_count": rng.integers(0, 6, n),
            "violent_count": rng.integers(0, 8, n),
            "total_count": total,
            "risk_factor_load": rng.uniform(0, 6, n).round(2),
        },
        index=population.index,
    )
    for name, values in columns.items():
        table[name] = values
    return table
