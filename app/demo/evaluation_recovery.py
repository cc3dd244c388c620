"""Does the intervention evaluation find a planted drop, and nothing in the null world? (#18)

One seed: simulate the demo world with a planted lighting project (app/demo/intervention.py),
count its complaints as the database does (app/reports/evaluation_counts.py: the treated
disc, the ring, every micro-barrio with both cut out, equal bins, the IL categories, night
hours when asked; same settlement = centroid within 3 km of the disc), evaluate with the
same pure code as the API (app/scoring/intervention_design.py) and compare with the truth:

* `covered`: the headline 95 % interval holds the planted IRR (0.6 for a 40 % drop, 1 in
  the null world);
* `right_sign`: the estimated IRR is below 1 (signal world);
* `verdict_code` / `displacement_code`: what a council would read.

The test (tests/test_evaluation_recovery.py) runs a few seeds; `python -m
bench.evaluation_recovery` sweeps many and prints the rates recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

import numpy as np

from app.demo.places import LocalProjection
from app.demo.planted import PlantedSpec
from app.demo.sources import DemoSources
from app.demo.world import DemoWorld, simulate
from app.reports.evaluation import EvaluationRequest
from app.reports.evaluation_counts import SETTLEMENT_M
from app.reports.evaluation_crimes import NIGHT_HOURS
from app.scoring.intervention_design import AreaCounts, EvaluationDataError, evaluate_counts
from app.scoring.intervention_verdict import verdict
from app.timezone import CHILE_TZ

# The ranking's other planted signals stay (elevated units, factor effects: constant in
# time, absorbed by the area effects); its 12-month trend is switched off, so that the only
# change over time is the project's (a trend in a comparison unit would bias any DiD).
PLANTED = PlantedSpec(intervention_drop=0.4, trend_ratio=1.0)
DISPLACED = replace(PLANTED, displacement_share=1.0)


@dataclass(frozen=True)
class Scenario:
    """An evaluation setting and the matching planted project (same radius)."""

    name: str
    request: EvaluationRequest
    night_only: bool

    def spec(self, base: PlantedSpec) -> PlantedSpec:
        return replace(
            base,
            intervention_radius_m=float(self.request.radius_m),
            intervention_catchment_m=float(self.request.catchment_m),
        )


SCENARIOS = (
    # what the API does for a lighting project, with a one-year window
    Scenario("IL, 300 m, 365 días, de noche", EvaluationRequest(window_days=365), True),
    Scenario("IL, 300 m, 730 días, todas las horas", EvaluationRequest(window_days=730), False),
    Scenario(
        "IL, 500 m, 730 días, todas las horas",
        EvaluationRequest(radius_m=500, window_days=730),
        False,
    ),
)


@dataclass(frozen=True)
class EvaluationRecovery:
    seed: int
    signal: bool
    planted_irr: float
    moved: int  # complaints planted into the ring
    refused: str | None  # why the evaluation refused (too few complaints), else None
    treated_before: int = 0
    irr: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    p_value: float = float("nan")
    test: str = ""
    mde: float | None = None
    verdict_code: str = ""
    displacement_code: str | None = None
    wdq: float | None = None
    ring_irr: float | None = None

    @property
    def covered(self) -> bool:
        return self.refused is None and self.low <= self.planted_irr <= self.high

    @property
    def right_sign(self) -> bool:
        return self.refused is None and self.irr < 1

    @property
    def significant(self) -> bool:
        return self.verdict_code in ("baja", "alza")

    def detectable(self, drop: float) -> bool:
        return self.mde is not None and self.mde <= drop


def world_counts(world: DemoWorld, request: EvaluationRequest, *, night_only: bool) -> AreaCounts:
    """The count table the database would build for the planted project."""
    iv = world.intervention
    assert iv is not None, "the world has no planted intervention"
    event = datetime.combine(iv.start, time.min, tzinfo=CHILE_TZ)
    k = request.bins
    bin_seconds = request.window_days * 86400 / k
    start = event - timedelta(days=2 * request.window_days)  # k matching bins first
    c = world.complaints
    keep = c["category"].isin(iv.categories).to_numpy().copy()
    if night_only:
        hour = c["occurred_at"].dt.hour.to_numpy()
        keep &= (hour >= NIGHT_HOURS[0]) | (hour < NIGHT_HOURS[1])
    seconds = (c["occurred_at"] - start).dt.total_seconds().to_numpy()
    slot = np.floor(seconds / bin_seconds)
    keep &= (slot >= 0) & (slot < 3 * k)
    projection = LocalProjection(iv.lon, iv.lat)
    x, y = projection.to_metres(c["lon"].to_numpy(), c["lat"].to_numpy())
    d = np.hypot(x, y)
    treated = d <= request.radius_m
    ring = ~treated & (d <= request.radius_m + request.catchment_m)

    def series(mask: np.ndarray) -> np.ndarray:
        return np.bincount(slot[keep & mask].astype(int), minlength=3 * k)

    units = c["micro_barrio"].to_numpy()
    outside = ~treated & ~ring
    candidates, same = {}, {}
    for unit in world.sources.micro_barrios:
        candidates[unit.code] = series(outside & (units == unit.code))
        cx, cy = projection.to_metres(
            np.array([unit.geom.centroid.x]), np.array([unit.geom.centroid.y])
        )
        same[unit.code] = bool(np.hypot(cx[0], cy[0]) <= SETTLEMENT_M + request.radius_m)
    return AreaCounts(k, series(treated), series(ring), candidates, same, matching_bins=k)


def evaluate_world(
    world: DemoWorld, request: EvaluationRequest, *, night_only: bool
) -> EvaluationRecovery:
    """The evaluation of the world's planted project, against its truth."""
    iv = world.intervention
    assert iv is not None, "the world has no planted intervention"
    base = {
        "seed": world.truth.seed,
        "signal": world.truth.signal,
        "planted_irr": iv.expected_irr,
        "moved": iv.moved,
    }
    return recovery_from_counts(base, world_counts(world, request, night_only=night_only))


def recovery_from_counts(base: Mapping[str, object], counts: AreaCounts) -> EvaluationRecovery:
    """The evaluation of `counts` read against what was planted (`base`: seed, signal,
    planted_irr, moved); refused evaluations keep the reason."""
    try:
        result = evaluate_counts(counts)
    except EvaluationDataError as exc:
        return EvaluationRecovery(**base, refused=exc.detail)  # type: ignore[arg-type]
    said = verdict(result, ring_label="el entorno")
    low, high = result.treated.interval
    return EvaluationRecovery(
        **base,  # type: ignore[arg-type]
        refused=None,
        treated_before=result.treated.before,
        irr=result.treated.irr,
        low=low,
        high=high,
        p_value=result.treated.p_value,
        test=result.treated.headline,
        mde=result.mde,
        verdict_code=said.code,
        displacement_code=said.displacement_code,
        wdq=result.displacement.wdq,
        ring_irr=None if result.catchment is None else result.catchment.irr,
    )


def recover(
    sources: DemoSources,
    *,
    seed: int,
    end: date,
    scenario: Scenario,
    signal: bool = True,
    base: PlantedSpec = PLANTED,
    years: int | None = None,
) -> EvaluationRecovery:
    """One seed, one scenario: simulate (by default the years the windows need: two before
    the project for matching and estimation, the project's 24 months) and evaluate."""
    if years is None:
        years = max(5, 2 + math.ceil(2 * scenario.request.window_days / 365))
    world = simulate(
        sources, seed=seed, end=end, years=years, signal=signal, spec=scenario.spec(base)
    )
    return evaluate_world(world, scenario.request, night_only=scenario.night_only)
