"""From the input table to the raw ranking variables (one column per variable)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from app.scoring.errors import ScoringInputError
from app.scoring.hotspots import HotSpotParams, HotSpots, getis_ord_star
from app.scoring.inputs import UnitInputs
from app.scoring.smoothing import SmoothedRates, empirical_bayes
from app.scoring.trend import smoothed_trend


@dataclass(frozen=True)
class Variables:
    raw: pd.DataFrame  # built-in variables + external columns, indexed by unit
    dmcs: SmoothedRates
    hotspots: HotSpots | None


def compute_variables(
    inputs: UnitInputs, *, require_hotspot: bool, params: HotSpotParams | None = None
) -> Variables:
    """Every variable a profile can weight; Gi* whenever the inputs carry spatial weights."""
    table = inputs.table
    population = table["population"]
    dmcs = empirical_bayes(table["dmcs_count"], population)
    dmcs_prev = empirical_bayes(table["dmcs_count_prev"], population)
    raw = pd.DataFrame(
        {
            "dmcs_rate": dmcs.smoothed,
            "violent_share": _share(table["violent_count"], table["total_count"]),
            "drug_trafficking_rate": empirical_bayes(
                table["drug_trafficking_count"], population
            ).smoothed,
            "drug_consumption_rate": empirical_bayes(
                table["drug_consumption_count"], population
            ).smoothed,
            "risk_factor_load": table["risk_factor_load"],
            "dmcs_trend": smoothed_trend(dmcs, dmcs_prev, population),
        },
        index=table.index,
    )
    spots = None
    if inputs.weights is not None:
        spots = getis_ord_star(dmcs.smoothed, inputs.weights, params)
        raw["hotspot"] = spots.variable
    elif require_hotspot:
        raise ScoringInputError(
            "el perfil pondera 'hotspot' (Gi*) pero no se entregaron geometrías ni pesos "
            "espaciales de las unidades"
        )
    for column in inputs.external_columns:
        raw[column] = table[column]
    return Variables(raw=raw, dmcs=dmcs, hotspots=spots)


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """Smoothed share part/whole; with no complaints anywhere the share is 0."""
    if float(whole.sum()) == 0.0:
        return pd.Series(0.0, index=part.index)
    return empirical_bayes(part, whole, per=1.0).smoothed
