"""Does the Knox test find the planted near-repeat pattern, and nothing in the null world?

One seed: simulate the demo world with a near-repeat pattern for one category
(`PlantedSpec.near_repeat_category`, app/demo/planted.py), take that category's complaints
of the last `months` months, project them to metres and run the Knox table
(app/scoring/near_repeat.py) on their Chilean calendar days, as `vigia near-repeat` does.

* `planted_flagged`: the cell of the planted pattern (first distance band, first time band)
  is significant;
* `flagged_cells` / `cells`: how many cells are significant at all (in the null world the
  share should stay near the nominal level).

The test (tests/scoring/test_near_repeat_recovery.py) runs a few seeds; `python -m
bench.near_repeat` sweeps many and prints the rates recorded in docs/metodologia.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from app.demo.planted import PlantedSpec
from app.demo.sources import DemoSources
from app.demo.world import DemoWorld, months_back, simulate
from app.scoring.near_repeat import NearRepeatResult, calendar_days, knox_table, project
from app.timezone import CHILE_TZ

RECOVERY_CATEGORY = "551"  # Robo en lugar habitado (data/categories.csv)
RECOVERY_SPEC = PlantedSpec(near_repeat_category=RECOVERY_CATEGORY)


@dataclass(frozen=True)
class NearRepeatRecovery:
    seed: int
    signal: bool
    events: int
    moved: int
    planted_flagged: bool
    flagged_cells: int
    cells: int
    ratio: float | None  # observed / expected of the planted cell


def category_events(
    world: DemoWorld, category: str, *, end: date, months: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y (metres, the default CRS) and calendar days of one category's complaints of the
    `months` months ending with `end`'s month."""
    first = months_back(end, -(-months // 12))[-months]  # first day of the period
    start = pd.Timestamp(first, tz=CHILE_TZ)
    frame = world.complaints
    frame = frame[(frame["category"] == category) & (frame["occurred_at"] >= start)]
    x, y = project(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    local = frame["occurred_at"].dt.tz_convert(CHILE_TZ).dt.date
    return x, y, calendar_days(list(local))


def recover(
    sources: DemoSources,
    *,
    seed: int,
    signal: bool,
    end: date,
    months: int = 24,
    permutations: int = 999,
    spec: PlantedSpec = RECOVERY_SPEC,
) -> tuple[NearRepeatRecovery, NearRepeatResult]:
    world = simulate(
        sources, seed=seed, end=end, years=max(1, -(-months // 12)), signal=signal, spec=spec
    )
    category = spec.near_repeat_category or RECOVERY_CATEGORY
    x, y, days = category_events(world, category, end=end, months=months)
    result = knox_table(x, y, days, permutations=permutations, seed=seed)
    cells = result.cells()
    planted = cells[0]
    moved = world.truth.near_repeat["moved"] if world.truth.near_repeat else 0
    return (
        NearRepeatRecovery(
            seed=seed,
            signal=signal,
            events=result.events,
            moved=int(moved),
            planted_flagged=planted.significant,
            flagged_cells=sum(c.significant for c in cells),
            cells=len(cells),
            ratio=planted.ratio,
        ),
        result,
    )
