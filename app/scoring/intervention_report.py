"""An intervention evaluation as a JSON document: what the API returns and a stored row keeps.

Pure. `evaluation_document` turns `evaluate_counts`' result and the inputs (the count table
and the parameters) into the fields of the API's EvaluationRead; `counts_from_inputs`
rebuilds the count table from the stored inputs, so a cited evaluation can be recomputed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.scoring.intervention import RING, TREATED, mde_sentence
from app.scoring.intervention_design import (
    AreaCounts,
    AreaEffect,
    InterventionResult,
    finite,
)
from app.scoring.intervention_verdict import verdict


def _effect(effect: AreaEffect | None) -> dict[str, Any] | None:
    if effect is None:
        return None
    m, x = effect.model, effect.exact
    return {
        "before": effect.before,
        "after": effect.after,
        "irr": finite(effect.irr),
        "interval": (finite(effect.interval[0]), finite(effect.interval[1])),
        "p_value": finite(effect.p_value),
        "test": effect.headline,
        "model_family": m.family,
        "model_irr": finite(m.irr),
        "model_interval": (finite(m.low), finite(m.high)),
        "model_p": finite(m.p_value),
        "exact_irr": finite(x.odds_ratio),
        "exact_interval": (finite(x.low), finite(x.high)),
        "exact_p": finite(x.p_value),
        "nb_alpha": finite(m.nb_alpha),
        "pearson_dispersion": finite(m.pearson_dispersion),
        "pretrend_p": finite(m.pretrend_p),
    }


def _pct(before: int, after: int) -> str:
    if before == 0:
        return "sin casos antes"
    change = round((after - before) / before * 100)
    return f"{'+' if change > 0 else ('−' if change < 0 else '')}{abs(change)}\u00a0%"


def place(inputs: dict[str, Any]) -> str:
    """Where the treated area is, in words: around the intervention, or a risk terrain's cells."""
    terrain = inputs.get("terrain")
    if not terrain:
        return f"A {inputs['radius_m']} m de la intervención"
    which = str(terrain["cells"])
    chosen = (
        f"el {which.removeprefix('top_')} % de mayor riesgo"
        if which.startswith("top_")
        else "que toca el proyecto"
    )
    return (
        f"En las {terrain['cell_count']} celdas de {terrain['cell_m']:g} m del modelo de "
        f"terreno de riesgo ({chosen})"
    )


def summary(result: InterventionResult, inputs: dict[str, Any]) -> str:
    t = result.treated
    units = ", ".join(m.unit for m in result.matches)
    window = inputs["window_days"]
    return (
        f"{place(inputs)} hubo {t.before} denuncias relevantes en "
        f"los {window} días antes y {t.after} en los {window} días después "
        f"({_pct(t.before, t.after)}). En las áreas de comparación ({units}: elegidas por la "
        f"forma de su serie previa) se pasó de {result.comparison_before} a "
        f"{result.comparison_after} ({_pct(result.comparison_before, result.comparison_after)})."
    )


def evaluation_document(
    result: InterventionResult, inputs: dict[str, Any], *, ring_label: str
) -> dict[str, Any]:
    said = verdict(result, ring_label=ring_label)
    t, d = result.treated, result.displacement
    low, high = t.interval
    counts = inputs["counts"]
    k, m = inputs["bins_per_period"], inputs.get("matching_bins", 0)
    return {
        "typology": inputs["typology"],
        "radius_m": inputs["radius_m"],
        "catchment_m": inputs["catchment_m"],
        "window_days": inputs["window_days"],
        "bins_per_period": k,
        "area_source": inputs["area_source"],
        "terrain": inputs.get("terrain"),
        "categories": inputs["categories"],
        "categories_source": inputs["categories_source"],
        "hours": inputs["hours"],
        "treated_before": t.before,
        "treated_after": t.after,
        "catchment_before": int(sum(counts[RING][m : m + k])),
        "catchment_after": int(sum(counts[RING][m + k :])),
        "matched_on": result.matched_on,
        "ring_units": inputs["ring_units"],
        "comparison_units": [
            {
                "unit": m.unit,
                "same_settlement": m.same_settlement,
                "trend_distance": m.trend_distance,
                "before": m.before,
                "after": m.after,
            }
            for m in result.matches
        ],
        "comparison_before": result.comparison_before,
        "comparison_after": result.comparison_after,
        "expected_after": finite(result.expected_after, 1),
        "treated": _effect(t),
        "catchment": _effect(result.catchment),
        "relative_effect": finite(t.irr - 1, 3),
        "interval": (finite(low - 1, 3), finite(high - 1, 3)),
        "p_value": finite(t.p_value),
        "mde": finite(result.mde, 3),
        "mde_text": mde_sentence(result.mde),
        "displacement": {
            "wdq": finite(d.wdq),
            "reading": d.reading,
            "success_measure": finite(d.success_measure),
            "buffer_measure": finite(d.buffer_measure),
            "total_net_effect": finite(d.total_net_effect, 1),
        },
        "verdict_code": said.code,
        "verdict": said.text,
        "displacement_code": said.displacement_code,
        "displacement_text": said.displacement_text,
        "caveats": said.caveats,
        "caveat": " ".join(said.caveats),
        "summary": summary(result, inputs),
        "method_version": result.method_version,
        "inputs": inputs,
    }


def counts_from_inputs(inputs: dict[str, Any]) -> AreaCounts:
    counts = {name: np.asarray(values, dtype=int) for name, values in inputs["counts"].items()}
    return AreaCounts(
        bins_before=int(inputs["bins_per_period"]),
        treated=counts.pop(TREATED),
        catchment=counts.pop(RING),
        candidates=counts,
        same_settlement={k: bool(v) for k, v in inputs["same_settlement"].items()},
        matching_bins=int(inputs.get("matching_bins", 0)),
    )
