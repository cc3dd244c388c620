"""Pinned fingerprints: the canonical serialisation must not drift when the code is optimised.

The reproducibility tests elsewhere compare two runs of the same code; these compare against
values computed by the straightforward (row by row) implementation of METHOD_VERSION 1, so
a faster serialisation, classifier or record builder that changes one byte fails here. If a
library upgrade (esda, mapclassify, numpy) changes a number, the fingerprints change too:
that is the point of citing them; re-pin only after explaining why in the commit.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from app.scoring import (
    BARRIO_PROFILE_V1,
    MICRO_BARRIO_PROFILE_V1,
    Classifier,
    Period,
    Ranking,
    ScoringProfile,
    UnitInputs,
    compute_ranking,
)
from tests.scoring.factories import make_table

PERIOD = Period(date(2025, 1, 1), date(2026, 1, 1))
AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
GRID_ROWS, GRID_COLUMNS = 12, 16  # 192 units: the size of a regional-tier comuna


def grid_inputs() -> UnitInputs:
    """192 square micro-barrios with ties, empty units, missing population and an ext_ column."""
    codes = [f"G{r:02d}-{c:02d}" for r in range(GRID_ROWS) for c in range(GRID_COLUMNS)]
    geometry = pd.Series(
        [box(c, r, c + 1, r + 1) for r in range(GRID_ROWS) for c in range(GRID_COLUMNS)],
        index=codes,
        dtype=object,
    )
    rng = np.random.default_rng(20965)
    population = pd.Series(rng.integers(0, 2500, len(codes)).astype(float), index=codes)
    population.iloc[[3, 50, 51]] = np.nan  # unknown: imputed
    population.iloc[[7, 90]] = 0.0
    dmcs = rng.poisson(6, len(codes))
    dmcs[100:110] = 0  # a quiet block: ties at the bottom
    table = make_table(
        population=population,
        seed=11,
        dmcs_count=dmcs,
        ext_ivs=rng.uniform(0, 1, len(codes)).round(3),
    )
    return UnitInputs.build(table, geometry=geometry)


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _summary(ranking: Ranking) -> dict[str, Any]:
    meta = ranking.metadata()
    meta.pop("software")
    return {
        "input": ranking.input_fingerprint,
        "result": ranking.result_fingerprint,
        "records": _digest(ranking.to_records()),
        "metadata": _digest(meta),
        "classes": ranking.table["class"].value_counts().sort_index().to_dict(),
    }


GRID_PROFILE = MICRO_BARRIO_PROFILE_V1.revise(
    weights={**MICRO_BARRIO_PROFILE_V1.weights, "ext_ivs": 0.5}
)


def _lanco_micro(lanco: tuple[pd.Series, pd.Series]) -> Ranking:
    population, geometry = lanco
    inputs = UnitInputs.build(make_table(population=population), geometry=geometry)
    return compute_ranking(inputs, MICRO_BARRIO_PROFILE_V1, PERIOD, "micro_barrio", computed_at=AT)


def _lanco_barrio(lanco: tuple[pd.Series, pd.Series]) -> Ranking:
    population, _ = lanco
    inputs = UnitInputs.build(make_table(population=population))
    return compute_ranking(inputs, BARRIO_PROFILE_V1, PERIOD, "barrio", computed_at=AT)


def _grid(profile: ScoringProfile) -> Ranking:
    return compute_ranking(grid_inputs(), profile, PERIOD, "micro_barrio", computed_at=AT)


PINNED: dict[str, dict[str, Any]] = {
    "lanco_micro": {
        "input": "bd075ba131f3318d12e91a6ba41de4942e1f1ab23ee379565c3297120c88d854",
        "result": "3956ee801f073c8cc56dc1ec75d38cfb45fdab28a9a29b76949c3bcd7a6f2daa",
        "records": "3b9d2f26bb9696c5299e94ec42a027569210a6ab440c5e5472759c953c549b71",
        "metadata": "78aacfb5b288d1ef4013349595d9943c847eba6caf654765cc2c500d951c31c1",
        "classes": {"alto": 5, "bajo": 5, "crítico": 2, "medio": 7},
    },
    "lanco_barrio": {
        "input": "87da88c15143b01d9831d20b2d8ba00058d0001ca71625eeb30e0ad3717f7f30",
        "result": "6910d0927cfd97d251902dc8a7028ed436ade998e7a7eff80cf0300b6df9f10b",
        "records": "35d498da89b6f48cf50c5fc268e9c68089583a10d82a2859d159d24556575d1c",
        "metadata": "ca390837d8b150a0982c6bd04a98a0d9230ff0a2a2abbdf79572948507582fc4",
        "classes": {"alto": 1, "bajo": 1, "crítico": 1, "medio": 2},
    },
    "grid": {
        "input": "aa89125ff7bf5acc609d0b4d9eb7d69a3855d3e1e2fb0c5d0c9c43325b69a8b6",
        "result": "48e1c0399ace5580057f0c12927b90fdf91ae498897861defa6f21fab659d519",
        "records": "72c3a261e632777ee7849de00955140d840f77c7624abb8a576b796271a8df3f",
        "metadata": "10021c37ae13b7a693f7ab2773b97faf78043577c9167a742e841413f1357f47",
        "classes": {"alto": 39, "bajo": 63, "crítico": 4, "medio": 86},
    },
    "grid_quantiles": {
        "input": "9340dc037a7b4e9a6d225b7d8743761f977136549e3c36c9f5a282e8fdea8468",
        "result": "e312eb31964e308c716258333c3f2083d4f1d4837e3cfdaef86477c58878b1cf",
        "records": "1fd574c13d03b227ba5e35fb16f659c23704e467749f53c2a830bb654e493a8d",
        "metadata": "7c1cde7286d9a65345379bd75f287e1b12c1851726599fe2948784a2d6a31664",
        "classes": {"alto": 48, "bajo": 48, "crítico": 48, "medio": 48},
    },
}


@pytest.mark.parametrize("case", ["lanco_micro", "lanco_barrio", "grid", "grid_quantiles"])
def test_fingerprints_and_records_are_pinned(
    case: str,
    lanco_micro: tuple[pd.Series, pd.Series],
    lanco_barrios: tuple[pd.Series, pd.Series],
) -> None:
    if case == "lanco_micro":
        ranking = _lanco_micro(lanco_micro)
    elif case == "lanco_barrio":
        ranking = _lanco_barrio(lanco_barrios)
    elif case == "grid":
        ranking = _grid(GRID_PROFILE)
    else:
        ranking = _grid(GRID_PROFILE.revise(classifier=Classifier.QUANTILES))

    assert _summary(ranking) == PINNED[case]
