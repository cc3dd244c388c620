"""Method 2's ranking table: variables with their signal tests, score, classes, uncertainty.

`compute_ranking` (app/scoring/snapshot.py) calls `rank_table` for profiles with `method=2`;
method 1 stays as it was so the rankings computed with it still recompute and verify.

A variable whose test finds no difference between units beyond chance contributes nothing,
and its weight is not redistributed: the metadata states, per variable, the test, its p-value
and whether it carried signal, and how many of the 100 points carried none
(`weight_without_signal`), so a council reads "of 100 points, 45 came from variables with
signal" instead of a silently flattened index.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.scoring import composite
from app.scoring.errors import ScoringInputError
from app.scoring.hotspots import HotSpotParams
from app.scoring.inputs import UnitInputs
from app.scoring.profiles import ScoringProfile
from app.scoring.uncertainty import INTERVAL, SENSITIVITY_SPREAD, bootstrap
from app.scoring.variables_v2 import VariablesV2, compute_variables_v2

# A class is "stable" when the bootstrap keeps the unit in it at least this often; "crítico
# with high probability" (the public summary, the recovery tests) means at least this much.
STABLE_CLASS_PROBABILITY = 0.8
HIGH_PROBABILITY = 0.9
_CLASS_COLUMNS = {"crítico": "p_critico", "alto": "p_alto", "medio": "p_medio", "bajo": "p_bajo"}


def rank_table(
    inputs: UnitInputs, profile: ScoringProfile, params: HotSpotParams
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(the ranking table, what the metadata adds: signal per variable, uncertainty)."""
    variables = compute_variables_v2(inputs, profile, params)
    raw = _profile_columns(variables, profile)
    normalised = composite.normalise(raw, profile.normalisation, profile.inverted).fillna(0.0)
    silent = [name for name in raw.columns if not variables.carries_signal(name)]
    contrib = composite.contributions(normalised, profile)
    contrib[silent] = 0.0
    score = composite.scores(contrib)
    classes = composite.classify_min_size(score, profile.classifier)
    labels = tuple(reversed(composite.CLASSES))  # crítico first, as people read them
    spread = bootstrap(variables, profile, score, classes, labels)
    probability = spread.class_probability.rename(columns=_CLASS_COLUMNS)
    columns = spread.class_probability.columns.get_indexer(classes.to_numpy())
    chosen = spread.class_probability.to_numpy()[np.arange(len(classes)), columns]
    own = pd.Series(chosen, index=score.index, dtype=float)
    table = pd.concat(
        [
            raw.add_prefix("raw_"),
            normalised.add_prefix("norm_"),
            contrib.add_prefix("contrib_"),
            pd.DataFrame(
                {
                    "score": score,
                    "class": classes,
                    "rank": composite.rank(score),
                    "top_variables": composite.top_variables(contrib),
                    "rank_low": spread.rank_low,
                    "rank_high": spread.rank_high,
                    "class_probability": own,
                    "class_stable": own >= STABLE_CLASS_PROBABILITY,
                    "sensitivity_rank_low": spread.sensitivity_low,
                    "sensitivity_rank_high": spread.sensitivity_high,
                }
            ),
            probability,
            variables.diagnostics,
        ],
        axis=1,
    )
    total = profile.weight_total
    without = sum(profile.weights[name] for name in silent) * 100.0 / total
    meta = {
        "signal": {name: test.as_dict() for name, test in variables.signal.items()},
        "weight_without_signal": round(without, 6),
        "smoothing": profile.smoothing.value,
        "classes": {"min_size": composite.MIN_CLASS_SIZE, "stable_at": STABLE_CLASS_PROBABILITY},
        "uncertainty": {
            "bootstrap_draws": spread.draws,
            "seed": spread.seed,
            "interval": list(INTERVAL),
            "sensitivity_spread": SENSITIVITY_SPREAD,
        },
    }
    return table, meta


def _profile_columns(variables: VariablesV2, profile: ScoringProfile) -> pd.DataFrame:
    """The profile's variables (an unavailable one only with weight 0: all NaN)."""
    columns = {}
    for name, weight in profile.weights.items():
        if name in variables.raw.columns:
            columns[name] = variables.raw[name]
        elif weight > 0:
            raise ScoringInputError(f"el perfil pondera '{name}' pero la entrada no la trae")
        else:
            columns[name] = pd.Series(float("nan"), index=variables.raw.index)
    return pd.DataFrame(columns, index=variables.raw.index)
