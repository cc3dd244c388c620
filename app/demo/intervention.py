"""A planted intervention: a drop in the treated area after a date, and displacement (#18).

Off unless `PlantedSpec.intervention_drop` is set. The project is a street-lighting one (IL)
at a real "luminaria_apagada" factor of the seed: the one with the most residents within
`intervention_radius_m` (a planner fixes lights where people live). It is in place from the
first day of the month `intervention_months` before the window's end. Then, for the
complaints of the IL categories of data/intervention_crimes.csv (every hour of the day)
that fall within `intervention_radius_m` metres of the factor on or after that day:

* each is removed with probability `intervention_drop` (0.4: the expected count falls by
  40 %, an incident-rate ratio of 0.6 against any area the project does not touch);
* a removed complaint is, with probability `displacement_share`, moved instead to a resident
  site of the ring `intervention_radius_m` to `intervention_radius_m + catchment_m` around
  the factor (drawn by residents, the usual < 4 m jitter): displacement into the catchment.

In the null world (`signal=False`) the site and the date are chosen alike and nothing is
removed or moved: an evaluation there should find nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

from app.demo import places
from app.demo.factors import PlannedFactor
from app.demo.planted import PlantedSpec
from app.demo.sources import DemoSources
from app.reports.evaluation_crimes import default_crimes
from app.timezone import CHILE_TZ

INTERVENTION_TYPE = "luminaria_apagada"
TYPOLOGY = "IL"
RULE = (
    "Proyecto de iluminación (IL) en el factor real 'luminaria_apagada' con más residentes "
    "a menos del radio; desde el primer día del mes indicado, cada denuncia de las categorías "
    "IL (todas las horas) a menos del radio se elimina con probabilidad `drop`, y una "
    "eliminada se traslada, con probabilidad `displacement_share`, a un sitio residencial del "
    "anillo (radio a radio + entorno). En el mundo nulo no se elimina ni traslada nada."
)


@dataclass(frozen=True)
class PlantedIntervention:
    lon: float
    lat: float
    start: date  # first day with the project in place
    radius_m: float
    catchment_m: float
    drop: float  # 0 in the null world
    displacement_share: float
    categories: tuple[str, ...]
    removed: int  # complaints taken out of the treated area
    moved: int  # of which moved into the ring

    @property
    def expected_irr(self) -> float:
        return 1.0 - self.drop

    def as_dict(self) -> dict[str, Any]:
        return {
            "typology": TYPOLOGY,
            "lon": self.lon,
            "lat": self.lat,
            "start": self.start.isoformat(),
            "radius_m": self.radius_m,
            "catchment_m": self.catchment_m,
            "drop": self.drop,
            "expected_irr": self.expected_irr,
            "displacement_share": self.displacement_share,
            "categories": list(self.categories),
            "removed": self.removed,
            "moved": self.moved,
            "rule": RULE,
        }


def choose_site(
    plan: list[PlannedFactor],
    sites: places.Sites,
    projection: places.LocalProjection,
    radius: float,
) -> PlannedFactor | None:
    best, best_weight = None, -1.0
    for factor in plan:
        if factor.type != INTERVENTION_TYPE or not factor.real:
            continue
        x, y = projection.to_metres(np.array([factor.lon]), np.array([factor.lat]))
        near = (sites.x - x[0]) ** 2 + (sites.y - y[0]) ** 2 <= radius**2
        weight = float(sites.weight[near].sum())
        if weight > best_weight:
            best, best_weight = factor, weight
    return best


def intervene(
    complaints: pd.DataFrame,
    where: tuple[
        DemoSources, places.Sites, list[places.Area], places.LocalProjection, list[PlannedFactor]
    ],
    spec: PlantedSpec,
    start: date,
    signal: bool,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, np.ndarray, PlantedIntervention | None]:
    """The complaints with the intervention applied, which of the given rows were kept, and
    what was planted (None: no site)."""
    sources, sites, areas, projection, plan = where
    radius, ring = spec.intervention_radius_m, spec.intervention_catchment_m
    factor = choose_site(plan, sites, projection, radius)
    if factor is None or spec.intervention_drop is None:
        return complaints, np.ones(len(complaints), dtype=bool), None
    categories = default_crimes()[TYPOLOGY]
    fx, fy = projection.to_metres(np.array([factor.lon]), np.array([factor.lat]))
    x, y = projection.to_metres(complaints["lon"].to_numpy(), complaints["lat"].to_numpy())
    after = complaints["occurred_at"] >= datetime.combine(start, time.min, tzinfo=CHILE_TZ)
    inside = (x - fx[0]) ** 2 + (y - fy[0]) ** 2 <= radius**2
    target = (complaints["category"].isin(categories) & after).to_numpy() & inside
    drop = spec.intervention_drop if signal else 0.0
    share = spec.displacement_share if signal else 0.0
    draws = rng.random((len(complaints), 2))
    removed = target & (draws[:, 0] < drop)
    moved = removed & (draws[:, 1] < share)
    out = complaints.copy()
    d2 = (sites.x - fx[0]) ** 2 + (sites.y - fy[0]) ** 2
    ring_sites = np.flatnonzero((d2 > radius**2) & (d2 <= (radius + ring) ** 2))
    if moved.any() and len(ring_sites) and sites.weight[ring_sites].sum() > 0:
        w = sites.weight[ring_sites]
        chosen = ring_sites[rng.choice(len(ring_sites), size=int(moved.sum()), p=w / w.sum())]
        lon, lat = places.jitter(sites, chosen, areas, projection, rng)
        lon, lat = (
            np.round(lon, places.COORDINATE_DECIMALS),
            np.round(lat, places.COORDINATE_DECIMALS),
        )
        barrio, micro = places.locate(lon, lat, sources)
        index = out.index[moved]
        out.loc[index, "lon"], out.loc[index, "lat"] = lon, lat
        out.loc[index, "barrio"], out.loc[index, "micro_barrio"] = barrio, micro
    else:
        moved = np.zeros(len(out), dtype=bool)
    keep = ~(removed & ~moved)
    return (
        out[keep].reset_index(drop=True),
        keep,
        PlantedIntervention(
            lon=factor.lon,
            lat=factor.lat,
            start=start,
            radius_m=radius,
            catchment_m=ring,
            drop=drop,
            displacement_share=share,
            categories=categories,
            removed=int(removed.sum()),
            moved=int(moved.sum()),
        ),
    )
