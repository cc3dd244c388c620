"""Pinned outputs of method 2: its bootstrap, signal tests and intervals must not drift when
the code is made faster (issue #16's speed work draws the same Poisson variates in fewer
calls, caches weights, skips work whose result is known).

The numbers were computed by the code of main at 18f771c before that work. A change that
moves one draw of one bootstrap changes a rank interval or a class probability somewhere and
fails here; so does a signal test whose parametric p-value moves. If a library upgrade
(numpy's Poisson generator, esda) changes a number, re-pin only after explaining why.
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

from app.scoring import MICRO_BARRIO_PROFILE, Period, Ranking, UnitInputs, compute_ranking
from app.scoring.profiles import Classifier, Normalisation, Smoothing

PERIOD = Period(date(2025, 1, 1), date(2026, 1, 1))
AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
ROWS, COLUMNS = 12, 16  # 192 units: a regional-tier comuna


def grid_table(*, flat: bool = False) -> tuple[pd.DataFrame, pd.Series]:
    """192 square micro-barrios with heavy-tailed rates (every variable carries signal), a
    planted rise, empty units and units without residents; `flat`: one common rate (no
    variable carries signal)."""
    codes = [f"G{r:02d}-{c:02d}" for r in range(ROWS) for c in range(COLUMNS)]
    geometry = pd.Series(
        [box(c, r, c + 1, r + 1) for r in range(ROWS) for c in range(COLUMNS)],
        index=codes,
        dtype=object,
    )
    rng = np.random.default_rng(16)
    k = len(codes)
    population = rng.integers(100, 2500, k).astype(float)
    population[[7, 90]] = 0.0
    risk = np.ones(k) if flat else rng.gamma(3.0, 1.0 / 3.0, k)
    if not flat:  # a 5 x 5 cluster of high rates: a hot spot
        for r in range(3, 8):
            risk[r * COLUMNS + 8 : r * COLUMNS + 13] *= 3.0
    expected = population / 1000.0 * 25.0 * risk
    dmcs = rng.poisson(expected)
    previous = rng.poisson(expected)
    if not flat:
        dmcs[40], previous[40] = 60, 10  # a planted rise
    dmcs[100:106] = 0
    total = dmcs + rng.poisson(expected * 0.8)
    violent = rng.binomial(total, 0.15 if flat else rng.beta(2, 10, k))
    table = pd.DataFrame(
        {
            "population": population,
            "dmcs_count": dmcs.astype(float),
            "dmcs_count_prev": previous.astype(float),
            "drug_trafficking_count": rng.poisson(expected * 0.05).astype(float),
            "drug_consumption_count": rng.poisson(expected * 0.1).astype(float),
            "violent_count": violent.astype(float),
            "total_count": total.astype(float),
            "risk_factor_load": 0.0,
            "violent_public_count": np.minimum(violent, rng.binomial(violent, 0.8)).astype(float),
            "risk_factor_count": rng.poisson(0.3 * risk).astype(float),
            "risk_factor_overdue": 0.0,
        },
        index=codes,
    )
    table["risk_factor_load"] = (table["risk_factor_count"] * 1.5).round(2)
    table["risk_factor_overdue"] = np.minimum(table["risk_factor_count"], 1.0)
    return table, geometry


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
    }


CASES = {
    "global": MICRO_BARRIO_PROFILE,
    "spatial": MICRO_BARRIO_PROFILE.revise(smoothing=Smoothing.SPATIAL),
    "percentile_quantiles": MICRO_BARRIO_PROFILE.revise(
        normalisation=Normalisation.PERCENTILE, classifier=Classifier.QUANTILES
    ),
    "flat": MICRO_BARRIO_PROFILE,
}

PINNED: dict[str, dict[str, str]] = {
    "global": {
        "input": "dd50f5e11ef0a922def392e5680027371a96c892bfff08e786a3063fc3b32cbd",
        "result": "ddbe7efae728e6b08d4525022985258baf6f628e93fe06512192195095ee4abd",
        "records": "04ae092bad9d2163c396b57370e6c7f1c936d2c26b4c26710a7e0b2f04b4715f",
        "metadata": "37ebf94b544629a598978120d534e2cbf27acd094943997715946f75da69723f",
    },
    "spatial": {
        "input": "43f98ee5e25082f406c49e586f5f352bb2e3acc631e5edb0771f57d8ce59e6f5",
        "result": "b24f9051ecba551e662819c0a5ab6db0889a3fed91605c7d56a8afae2d43a509",
        "records": "f2d58d982a064b779a0b9073b7109e2b0ca5158d7988de654bc6859cf5d34461",
        "metadata": "d445927640a77783c732bfbaca367ab0c244eca4560e9f10647a64cdc4bd1b29",
    },
    "percentile_quantiles": {
        "input": "255de4fbd78e483569478a9b2388f716ca1b56d158fbcb93ab21c89503e01d12",
        "result": "8c929b0c940ba2faa75d6ac9356a91c5c58c2a3e8574f75a6ac4e8c8cc70b528",
        "records": "79e32b8daa5938a0c8435f2ed163a41cbc25b2ec487e8abec0ff194e10e7f73f",
        "metadata": "5cdafe427d5753d5f9a2158ba2aaea0b6cea50b0da5d0e6b1be16c627c6328ed",
    },
    "flat": {
        "input": "17873b9e59f3fa137a813b15d31989ebc50e939500e26f8961e9f259a1d776a8",
        "result": "902ae3f8ea4ab12d42469b280fb78bade789cef2954775cd368e35bf2d32248a",
        "records": "de80a6e57e001941257d3f16cd1e8d950d194a0025624ba87698f8822ac4be61",
        "metadata": "0d2b9363f34952cb52b8188a3ce4beb4b54fd39510fbc60d7c7fd50f8e1a0519",
    },
}


@pytest.mark.parametrize("case", list(CASES))
def test_method2_outputs_are_pinned(case: str) -> None:
    table, geometry = grid_table(flat=case == "flat")
    inputs = UnitInputs.build(table, geometry=geometry)
    ranking = compute_ranking(inputs, CASES[case], PERIOD, "micro_barrio", computed_at=AT)
    signal = ranking.method_meta["signal"]
    if case == "flat":
        assert ranking.method_meta["weight_without_signal"] >= 40
    else:  # every path of the bootstrap runs: each weighted variable carries signal
        assert all(signal[name]["signal"] for name in CASES[case].weights), signal
    assert _summary(ranking) == PINNED[case]
