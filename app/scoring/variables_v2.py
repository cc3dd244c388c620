"""Method 2 (issue #16): the ranking variables, each with a test of whether it carries signal.

One function per variable family, written on count arrays of shape (k,) or (k, B) so that the
observed ranking and every bootstrap draw (app/scoring/uncertainty.py) use the same code:

* rates per 1,000 residents (DMCS, trafficking, consumption): Poisson empirical Bayes with the
  profile's prior, global (Marshall) or spatial (the unit and its contiguous neighbours);
* violent share: binomial empirical Bayes over the complaints of the unit, "violent" meaning
  the violent categories that happen in public space (not the sensitive ones: VIF, femicide,
  sexual offences), the ones situational prevention can act on;
* risk-factor load per 1,000 residents: open factors as of the end of the period, weighted by
  type and severity, without the overdue multiplier of method 1 (overdue is a management
  indicator, reported apart);
* trend: a rate-ratio test per unit against the comuna's own change (app/scoring/trend.py);
* hot spot: high-high Gi* after Benjamini-Hochberg (app/scoring/hotspots.py).

Formulas, tests and references: docs/metodologia.md, "Método 2".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from libpysal.weights import W
from scipy import sparse

from app.scoring.dispersion import (
    SignalTest,
    across_variables,
    binomial_dispersion,
    no_test,
    poisson_dispersion,
)
from app.scoring.errors import ScoringInputError
from app.scoring.hotspots import HighHighSpots, HotSpotParams, high_high_hot_spots
from app.scoring.inputs import METHOD2_COLUMNS, UnitInputs
from app.scoring.profiles import ScoringProfile, Smoothing
from app.scoring.smoothing import (
    PER_THOUSAND,
    binomial_eb,
    gamma_interval,
    poisson_eb,
    spatial_poisson_eb,
)
from app.scoring.trend import RateRatioTrend, rate_ratio_trend

RATE_VARIABLES = {
    "dmcs_rate": "dmcs_count",
    "drug_trafficking_rate": "drug_trafficking_count",
    "drug_consumption_rate": "drug_consumption_count",
}


@dataclass(frozen=True)
class Counts:
    """The count columns of the index, shape (k,) observed or (k, B) bootstrap draws."""

    population: np.ndarray  # (k,)
    rates: dict[str, np.ndarray]  # variable -> events
    dmcs_prev: np.ndarray
    violent: np.ndarray
    total: np.ndarray
    load: np.ndarray  # weighted open risk factors (not per resident yet)
    factors: np.ndarray  # number of open risk factors

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Counts:
        missing = [c for c in METHOD2_COLUMNS if c not in table.columns]
        if missing:
            raise ScoringInputError(
                f"el método 2 necesita las columnas {', '.join(missing)} en la entrada"
            )
        column = table.__getitem__
        return cls(
            population=column("population").to_numpy(dtype=float),
            rates={name: column(src).to_numpy(dtype=float) for name, src in RATE_VARIABLES.items()},
            dmcs_prev=column("dmcs_count_prev").to_numpy(dtype=float),
            violent=column("violent_public_count").to_numpy(dtype=float),
            total=column("total_count").to_numpy(dtype=float),
            load=column("risk_factor_load").to_numpy(dtype=float),
            factors=column("risk_factor_count").to_numpy(dtype=float),
        )


def star_matrix(weights: W, codes: list[str]) -> sparse.csr_array:
    """Binary contiguity plus the unit itself, rows and columns in `codes` order."""
    position = {code: i for i, code in enumerate(codes)}
    rows, cols = list(range(len(codes))), list(range(len(codes)))
    for code, neighbours in weights.neighbors.items():
        for other in neighbours:
            rows.append(position[str(code)])
            cols.append(position[str(other)])
    data = np.ones(len(rows))
    return sparse.csr_array((data, (rows, cols)), shape=(len(codes), len(codes)))


def smoothed_rates(
    counts: Counts, smoothing: Smoothing, star: sparse.csr_array | None
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(smoothed rate per 1,000, prior mean, between-variance) of every rate variable."""
    out = {}
    for name, events in counts.rates.items():
        base = _like(counts.population, events)
        if smoothing is Smoothing.SPATIAL:
            if star is None:
                raise ScoringInputError(
                    "el perfil suaviza con prior espacial pero no se entregaron geometrías "
                    "ni pesos espaciales de las unidades"
                )
            rate, mean, between = spatial_poisson_eb(events, base, star)
        else:
            rate, mean, between = poisson_eb(events, base)
        out[name] = (rate * PER_THOUSAND, mean, between)
    return out


def violent_share(counts: Counts) -> np.ndarray:
    return binomial_eb(counts.violent, counts.total)[0]


def load_per_thousand(counts: Counts) -> np.ndarray:
    """Weighted open factors per 1,000 residents; units without residents get the comuna's."""
    base = _like(counts.population, counts.load)
    has = base > 0
    comuna = counts.load.sum(axis=0, where=has) / base.sum(axis=0, where=has)
    per_resident = np.divide(counts.load, base, out=np.zeros_like(counts.load), where=has)
    return np.where(has, per_resident, comuna) * PER_THOUSAND


def _like(population: np.ndarray, values: np.ndarray) -> np.ndarray:
    return population if values.ndim == 1 else np.broadcast_to(population[:, None], values.shape)


@dataclass(frozen=True)
class VariablesV2:
    raw: pd.DataFrame  # one column per variable, indexed by unit code
    signal: dict[str, SignalTest]
    diagnostics: pd.DataFrame  # per unit: intervals, tests, quadrants
    counts: Counts
    star: sparse.csr_array | None
    trend: RateRatioTrend
    spots: HighHighSpots | None

    def carries_signal(self, name: str) -> bool:
        """Whether `name` may contribute: tested and found to differ between units."""
        test = self.signal.get(name)
        return test is not None and test.signal


def compute_variables_v2(
    inputs: UnitInputs, profile: ScoringProfile, params: HotSpotParams
) -> VariablesV2:
    table = inputs.table
    index = table.index
    counts = Counts.from_table(table)
    star = None if inputs.weights is None else star_matrix(inputs.weights, inputs.codes)
    rates = smoothed_rates(counts, profile.smoothing, star)
    trend = rate_ratio_trend(table["dmcs_count"], table["dmcs_count_prev"], alpha=params.alpha)
    raw = pd.DataFrame(
        {
            **{name: pd.Series(values[0], index=index) for name, values in rates.items()},
            "violent_share": pd.Series(violent_share(counts), index=index),
            "risk_factor_load": pd.Series(load_per_thousand(counts), index=index),
            "dmcs_trend": trend.variable,
        }
    )
    population = counts.population
    signal = {name: poisson_dispersion(counts.rates[name], population) for name in RATE_VARIABLES}
    signal["violent_share"] = binomial_dispersion(counts.violent, counts.total)
    signal["risk_factor_load"] = poisson_dispersion(counts.factors, population)
    signal["dmcs_trend"] = SignalTest(
        "razón de tasas exacta por unidad + Benjamini-Hochberg",
        None,
        float(trend.q_value.min()) if len(trend.q_value) else None,
        bool(trend.rising.any()),
    )
    spots = None
    if inputs.grid_hotspot is not None:
        grid = inputs.grid_hotspot
        raw["hotspot"] = grid.share.reindex(index).fillna(0.0).astype(float)
        signal["hotspot"] = SignalTest(
            "Gi* en grilla relativo a residentes + Benjamini-Hochberg",
            None,
            grid.q_min,
            grid.any_hot,
        )
    elif inputs.weights is not None:
        # Gi* on the globally smoothed rate even under a spatial prior: a spatially smoothed
        # rate borrows from its neighbours, which is the clustering Gi* would then "find"
        if profile.smoothing is Smoothing.SPATIAL:
            independent = smoothed_rates(counts, Smoothing.GLOBAL, None)["dmcs_rate"][0]
            dmcs_for_gi = pd.Series(independent, index=index)
        else:
            dmcs_for_gi = raw["dmcs_rate"]
        spots = high_high_hot_spots(dmcs_for_gi, inputs.weights, params)
        raw["hotspot"] = spots.variable
        signal["hotspot"] = SignalTest(
            "Gi* alto-alto (permutaciones) + Benjamini-Hochberg",
            None,
            float(spots.q_value.min()),
            bool(spots.hot.any()),
        )
    elif profile.weights.get("hotspot", 0.0) > 0:
        raise ScoringInputError(
            "el perfil pondera 'hotspot' (Gi*) pero no se entregaron geometrías ni pesos "
            "espaciales de las unidades"
        )
    for column in inputs.external_columns:
        raw[column] = table[column]
        signal[column] = no_test("variable externa: sin prueba de Vigía")
    weighted = {name for name, weight in profile.weights.items() if weight > 0}
    signal = across_variables(signal, weighted, alpha=params.alpha)
    return VariablesV2(
        raw=raw,
        signal=signal,
        diagnostics=_diagnostics(
            table,
            counts,
            rates,
            trend,
            spots,
            star if profile.smoothing is Smoothing.SPATIAL else None,
        ),
        counts=counts,
        star=star,
        trend=trend,
        spots=spots,
    )


def _diagnostics(
    table: pd.DataFrame,
    counts: Counts,
    rates: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    trend: RateRatioTrend,
    spots: HighHighSpots | None,
    spatial_star: sparse.csr_array | None,
) -> pd.DataFrame:
    """Per-unit diagnostics; `spatial_star` pools the interval's fallback per neighbourhood."""
    population = counts.population
    _, mean, between = rates["dmcs_rate"]
    events = counts.rates["dmcs_rate"]
    pooled = None
    if spatial_star is not None:
        pooled = (spatial_star @ events, spatial_star @ population)
    low, high = gamma_interval(events, population, mean, between, pooled=pooled)
    with np.errstate(divide="ignore", invalid="ignore"):
        crude = np.where(population > 0, counts.rates["dmcs_rate"] / population, np.nan)
    frame = pd.DataFrame(
        {
            "dmcs_crude_rate": crude * PER_THOUSAND,
            "dmcs_rate_low": low * PER_THOUSAND,
            "dmcs_rate_high": high * PER_THOUSAND,
            "population_missing": population <= 0,
            "trend_ratio": trend.ratio.to_numpy(),
            "trend_p": trend.p_value.to_numpy(),
            "trend_q": trend.q_value.to_numpy(),
            "trend_rising": trend.rising.to_numpy(),
            "risk_factors_open": counts.factors,
            "risk_factors_overdue": table["risk_factor_overdue"].to_numpy(dtype=float),
        },
        index=table.index,
    )
    if spots is not None:
        frame["gi_z"] = spots.gi.z
        frame["gi_p_sim"] = spots.gi.p_sim
        frame["gi_q"] = spots.q_value
        frame["gi_hot"] = spots.hot
        frame["gi_island"] = spots.gi.island
        frame["lisa_quadrant"] = spots.lisa_quadrant.astype(float)
    return frame
