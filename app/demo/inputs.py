"""A demo world's ranking input table, without a database.

The same rules as the database aggregation (app/rankings/inputs.py): periods are calendar
days in Chile (`boundaries`), DMCS and violent come from the catalog flags (the
`crime_category` table is loaded from the same data/categories.csv the world was built
with), trafficking and consumption from the scoring package's code lists, and the risk
factors open at the end of the period go through `risk_factor_load` with the profile's
type weights. Tests keep the two aggregations equal on the same data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.demo.world import DemoWorld
from app.rankings.inputs import boundaries
from app.scoring import (
    DEFAULT_PROFILES,
    DRUG_CONSUMPTION_CODES,
    DRUG_TRAFFICKING_CODES,
    Period,
    ScoringProfile,
)
from app.scoring.inputs import COUNT_COLUMNS, overdue_count, risk_factor_load

LEVELS = ("barrio", "micro_barrio")


def unit_populations(world: DemoWorld, level: str) -> pd.Series:
    """Residents per unit of `level`, by code (every unit, even those without complaints)."""
    if level not in LEVELS:
        raise ValueError(f"nivel desconocido: {level}")
    units = world.sources.barrios if level == "barrio" else world.sources.micro_barrios
    return pd.Series({u.code: float(u.population) for u in units}, dtype=float).sort_index()


_CLOSED = ("resuelto", "descartado", "duplicado")


def open_factors(
    world: DemoWorld, level: str, end: pd.Timestamp, *, at_end: bool = False
) -> pd.DataFrame:
    """Factors open at `end`, with their unit at `level` and days open.

    Method 1's rule (today's status: not discarded, not resolved before `end`), or with
    `at_end` method 2's: the status of the last step of the timeline before `end`.
    """
    f = world.risk_factors
    if at_end:
        steps = world.factor_timeline[world.factor_timeline["at"] < end]
        last = steps.sort_values("at", kind="mergesort").groupby("serial")["status"].last()
        status_then = f["serial"].map(last)
        is_open = status_then.notna() & ~status_then.isin(_CLOSED)
    else:
        resolved_before = (
            (f["status"] == "resuelto") & f["resolved_at"].notna() & (f["resolved_at"] < end)
        )
        is_open = ~f["status"].isin(["descartado", "duplicado"]) & ~resolved_before
    keep = (f["received_at"] < end) & is_open & f[level].notna()
    f = f[keep]
    days = np.floor((end - f["received_at"]).dt.total_seconds() / 86400).astype(int)
    return pd.DataFrame(
        {
            "unit": f[level].astype(str).to_numpy(),
            "type_code": f["type"].to_numpy(),
            "severity": f["severity"].to_numpy(),
            "days_open": days.to_numpy(),
            "expected_days": f["expected_days"].to_numpy(),
        }
    )


def ranking_inputs(
    world: DemoWorld, *, level: str, period: Period, profile: ScoringProfile | None = None
) -> pd.DataFrame:
    """The contract table of `app.scoring.inputs` (REQUIRED_COLUMNS, indexed by unit code)."""
    profile = profile or DEFAULT_PROFILES[level]
    population = unit_populations(world, level)
    limits = {k: pd.Timestamp(v) for k, v in boundaries(period).items()}
    c = world.complaints
    c = c[c[level].notna() & (c["occurred_at"] >= limits["previous_start"])]
    c = c[c["occurred_at"] < limits["end"]]
    current = (c["occurred_at"] >= limits["start"]).to_numpy()
    category = c["category"].to_numpy()
    dmcs = np.isin(category, sorted(world.sources.dmcs_codes))
    flags = {
        "dmcs_count": current & dmcs,
        "dmcs_count_prev": ~current & dmcs,
        "drug_trafficking_count": current & np.isin(category, DRUG_TRAFFICKING_CODES),
        "drug_consumption_count": current & np.isin(category, DRUG_CONSUMPTION_CODES),
        "violent_count": current & np.isin(category, sorted(world.sources.violent_codes)),
        "total_count": current,
    }
    public = world.sources.violent_codes - world.sources.sensitive_codes
    flags["violent_public_count"] = current & np.isin(category, sorted(public))
    method2 = profile.method == 2
    unit = c[level].astype(str).to_numpy()
    table = pd.DataFrame(index=population.index)
    table["population"] = population
    columns = [*COUNT_COLUMNS, "violent_public_count"] if method2 else COUNT_COLUMNS
    for column in columns:
        counts = pd.Series(flags[column].astype(float)).groupby(unit).sum()
        table[column] = counts.reindex(population.index, fill_value=0.0).astype(float)
    factors = open_factors(world, level, limits["end"], at_end=method2)
    factors = factors[factors["type_code"].isin(list(profile.risk_factor_weights))]
    factors = factors.reset_index(drop=True)
    codes = list(population.index)
    table["risk_factor_load"] = risk_factor_load(
        factors, profile.risk_factor_weights, units=codes, overdue=not method2
    ).reindex(population.index)
    if method2:  # the columns and order of app.rankings.inputs.aggregate
        violent_public = table.pop("violent_public_count")
        table["violent_public_count"] = violent_public
        table["risk_factor_count"] = (
            factors.groupby("unit").size().reindex(codes, fill_value=0).astype(float)
        )
        table["risk_factor_overdue"] = overdue_count(factors, codes)
    table.index.name = "unit"
    return table
