"""The planted truth of the demo data: a known spatial signal for the ranking to find.

Volumes never change (each month and category keeps its CEAD count); the signal only moves
WHERE the DMCS complaints fall. A DMCS complaint of month t lands at resident site s with
probability proportional to

    residents(s) * RR_unit(u(s)) * RR_trend(u(s), t) * prod_k RR_k ** near_k(s)

- RR_unit: a few units of the finest level (micro-barrios when the territory has them),
  drawn by the seed among those with enough residents, carry `elevated_rr`; the rest 1;
- RR_trend: one other such unit carries `trend_ratio` during the last `trend_months`
  months of the window (1 before);
- near_k(s) = 1 when a real (not discarded) reported factor of type k lies within
  `factor_radius_m` metres of the site, for the whole window; RR_k from `factor_rr`
  (types not listed: 1).

Every other category is placed in proportion to residents only. With `signal=False` every
multiplier is 1: the null world, where every resident runs the same risk. Which units and
where the factors are is derived from the territory and the seed, never from names.

Optional near-repeat (`near_repeat_category`, off by default): after the placement above,
the category's complaints are visited in time order and each one, with probability
`near_repeat_share`, is moved next to an earlier complaint of the same category from the
`near_repeat_days` days before it (drawn uniformly among them, if any): uniformly within
`near_repeat_radius_m` metres of it (its exact place when that would leave its area).
Times, counts and categories stay: only where those complaints fall changes. Off in the
null world.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from app.demo.factors import FACTOR_TYPES, PlannedFactor
from app.demo.places import Area, LocalProjection, Sites

TRUTH_VERSION = 1
PLACEMENT_RULE = (
    "Cada mes y categoría conservan su volumen CEAD; la señal solo cambia dónde caen las "
    "denuncias DMCS. Una denuncia DMCS del mes t cae en el sitio residencial s con "
    "probabilidad proporcional a residentes(s) × RR_unidad(u(s)) × RR_tendencia(u(s), t) × "
    "∏_k RR_k^[hay un factor real del tipo k a menos de radio_m del sitio]. Las demás "
    "categorías, proporcional a residentes. Sin señal, todos los multiplicadores valen 1."
)
RESIDENTIAL_MODEL = (
    "La población de cada unidad fina (micro-barrio, o barrio sin micro-barrios) se reparte "
    "uniformemente en sus manzanas censales (o en su polígono si no tiene), o alrededor de "
    "sectores rurales (dispersión normal de 900 m); cada denuncia cae a menos de 4 m de su "
    "sitio, dentro de la misma unidad."
)
FACTOR_EFFECT = (
    "El efecto de un factor dura toda la ventana (el lugar ya era así; el informe es cuando "
    "la policía lo vio) y solo cuentan los informes reales (no descartados). La proximidad "
    "es a la geometría informada (punto o tramo). Los factores se ubican solo en áreas "
    "urbanas (con manzanas): las comparaciones cerca/lejos se hacen dentro de ellas."
)


@dataclass(frozen=True)
class PlantedSpec:
    """Knobs of the planted signal (defaults: what `vigia demo-data` plants)."""

    elevated_units: int | None = None  # None: 15 % of the finest units, between 1 and 3
    elevated_rr: float = 3.0
    # x6 in a year: at Lanco's micro-barrio counts (10-25 DMCS a year) the smallest whole rise
    # the exact test flags with >= 95 % power after the correction over 19 units; x2.5 has
    # about 20 % (docs/metodologia.md, M2.10; app/scoring/trend.py's rise_detection_power)
    trend_ratio: float = 6.0
    trend_months: int = 12
    factor_rr: Mapping[str, float] = field(
        default_factory=lambda: {"luminaria_apagada": 2.0, "sitio_eriazo": 3.0}
    )
    factor_radius_m: float = 120.0
    # None: a factor acts on the resident sites within the radius of its geometry. A side in
    # metres: on the sites whose grid cell (UTM 18S cells of that side, the grid of
    # app/scoring/grid_hotspots.py) has its centre within the radius of the factor's anchor
    # point: the risk-terrain model's own "proximidad" variable, so its recovery tests the
    # statistics, not how far a cell-level variable is from a site-level effect.
    factor_cell_m: float | None = None
    min_population_ratio: float = 0.5  # elevated units: residents >= ratio * median
    # the trend unit: residents >= ratio * median (a trend needs counts to be seen)
    trend_min_population_ratio: float = 1.0
    # near-repeat (see the module doc); None: no near-repeat pattern
    near_repeat_category: str | None = None
    near_repeat_share: float = 0.3
    near_repeat_radius_m: float = 100.0
    near_repeat_days: float = 7.0
    # a planted intervention (app/demo/intervention.py); None: no intervention
    intervention_drop: float | None = None
    intervention_radius_m: float = 300.0
    intervention_catchment_m: float = 300.0
    intervention_months: int = 24  # in place for the last this-many months of the window
    displacement_share: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "factor_rr": dict(self.factor_rr)}


@dataclass(frozen=True)
class Trend:
    unit: str
    ratio: float
    baseline: tuple[date, date]  # half-open [start, end): the `trend_months` before
    trend: tuple[date, date]  # the last `trend_months` months of the window


@dataclass(frozen=True)
class PlantedTruth:
    """What was planted for one seed: compare any method's output with this."""

    seed: int
    signal: bool
    window: tuple[date, date]  # half-open [first month, first day after the last month)
    unit_level: str  # level of the elevated and trend units: micro_barrio or barrio
    elevated: dict[str, float]  # unit code -> RR per resident (empty without signal)
    trend: Trend | None
    factor_rr: dict[str, float]  # every demo factor type -> RR within the radius
    factor_radius_m: float
    factor_count: dict[str, int]  # real (not discarded) factors by type
    resident_share_near: dict[str, float]  # share of residents within the radius, by type
    signal_categories: tuple[str, ...]  # the DMCS codes the signal moves
    # level -> unit -> {"baseline": x, "trend": y}: the unit's mean multiplier per resident
    # over the comuna's, before and during the trend period (exact, from the sites)
    expected_relative_rate: dict[str, dict[str, dict[str, float]]]
    spec: dict[str, Any]
    # category, share, radius_m, days, moved (complaints moved), rule; None when not planted
    near_repeat: dict[str, Any] | None = None
    # app/demo/intervention.py's PlantedIntervention.as_dict(); None when not planted
    intervention: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        trend = None
        if self.trend is not None:
            trend = {
                "unit": self.trend.unit,
                "level": self.unit_level,
                "ratio": self.trend.ratio,
                "baseline_period": _period(self.trend.baseline),
                "trend_period": _period(self.trend.trend),
            }
        return {
            "version": TRUTH_VERSION,
            "seed": self.seed,
            "signal": self.signal,
            "window": _period(self.window),
            "signal_categories": {
                "rule": "categorías con dmcs=true en el catálogo (data/categories.csv)",
                "codes": list(self.signal_categories),
            },
            "elevated_units": [
                {"code": code, "level": self.unit_level, "relative_risk": rr}
                for code, rr in sorted(self.elevated.items())
            ],
            "trend": trend,
            "risk_factors": {
                "radius_m": self.factor_radius_m,
                "relative_risk": self.factor_rr,
                "real_count_by_type": self.factor_count,
                "resident_share_near": self.resident_share_near,
                "effect": FACTOR_EFFECT,
            },
            "placement_rule": PLACEMENT_RULE,
            "residential_model": RESIDENTIAL_MODEL,
            "expected_relative_rate": self.expected_relative_rate,
            "spec": self.spec,
            "near_repeat": self.near_repeat,
            "intervention": self.intervention,
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.as_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def _period(bounds: tuple[date, date]) -> dict[str, str]:
    return {"start": bounds[0].isoformat(), "end": bounds[1].isoformat()}


def unit_of_areas(areas: list[Area]) -> tuple[str, list[str | None]]:
    """The finest level of the territory and each area's unit at that level."""
    if any(a.micro_barrio for a in areas):
        return "micro_barrio", [a.micro_barrio for a in areas]
    return "barrio", [a.barrio for a in areas]


def choose_units(
    areas: list[Area], spec: PlantedSpec, rng: np.random.Generator, *, with_trend: bool
) -> tuple[list[str], str | None]:
    """Elevated units and the trend unit, drawn among the units with enough residents."""
    _, units = unit_of_areas(areas)
    population: dict[str, int] = {}
    for area, unit in zip(areas, units, strict=True):
        if unit is not None:
            population[unit] = population.get(unit, 0) + area.population
    codes = sorted(population)
    if not codes:
        return [], None
    median = float(np.median([population[c] for c in codes]))

    def eligible(ratio: float) -> list[str]:
        return [c for c in codes if population[c] > 0 and population[c] >= ratio * median]

    wanted = spec.elevated_units
    if wanted is None:
        wanted = int(np.clip(round(0.15 * len(codes)), 1, 3))
    pool = eligible(spec.min_population_ratio)
    elevated = sorted(pool[int(i)] for i in rng.permutation(len(pool))[:wanted])
    others = [c for c in eligible(spec.trend_min_population_ratio) if c not in elevated]
    trend = others[int(rng.integers(len(others)))] if with_trend and others else None
    return elevated, trend


def near_factor_types(
    sites: Sites,
    factors: list[PlannedFactor],
    projection: LocalProjection,
    radius_m: float,
    types: list[str],
    cell_m: float | None = None,
) -> dict[str, np.ndarray]:
    """type -> boolean per site: a real factor of that type within `radius_m` metres (of
    the site, or with `cell_m` of the centre of the site's grid cell; see PlantedSpec)."""
    if cell_m is not None:
        return _near_by_cell(sites, factors, radius_m, types, cell_m)
    near: dict[str, np.ndarray] = {}
    for code in types:
        flags = np.zeros(len(sites.x), dtype=bool)
        for factor in factors:
            if factor.type == code and factor.real:
                flags |= _within(sites, projection.geometry(factor.shape()), radius_m)
        near[code] = flags
    return near


def _near_by_cell(
    sites: Sites, factors: list[PlannedFactor], radius_m: float, types: list[str], cell_m: float
) -> dict[str, np.ndarray]:
    from app.scoring.near_repeat import project  # UTM 18S, the grid's CRS

    x, y = project(sites.lon, sites.lat)
    cx = (np.floor(x / cell_m) + 0.5) * cell_m
    cy = (np.floor(y / cell_m) + 0.5) * cell_m
    near: dict[str, np.ndarray] = {}
    for code in types:
        real = [f for f in factors if f.type == code and f.real]
        fx, fy = project(np.array([f.lon for f in real]), np.array([f.lat for f in real]))
        flags = np.zeros(len(x), dtype=bool)
        for px, py in zip(fx, fy, strict=True):
            flags |= (cx - px) ** 2 + (cy - py) ** 2 <= radius_m**2
        near[code] = flags
    return near


def _within(sites: Sites, geom: BaseGeometry, radius_m: float) -> np.ndarray:
    """Sites within `radius_m` of a geometry in metres (numpy for points and polylines)."""
    r2 = radius_m * radius_m
    if isinstance(geom, Point):
        return (sites.x - geom.x) ** 2 + (sites.y - geom.y) ** 2 <= r2
    if not isinstance(geom, LineString):
        return shapely.dwithin(geom, shapely.points(sites.x, sites.y), radius_m)
    coords = shapely.get_coordinates(geom)
    flags = np.zeros(len(sites.x), dtype=bool)
    for (ax, ay), (bx, by) in zip(coords[:-1], coords[1:], strict=True):
        vx, vy = bx - ax, by - ay
        length2 = vx * vx + vy * vy
        t = ((sites.x - ax) * vx + (sites.y - ay) * vy) / length2 if length2 > 0 else 0.0
        t = np.clip(t, 0.0, 1.0)
        flags |= (sites.x - ax - t * vx) ** 2 + (sites.y - ay - t * vy) ** 2 <= r2
    return flags


def site_multipliers(
    sites: Sites,
    site_unit: np.ndarray,
    elevated: Mapping[str, float],
    near: Mapping[str, np.ndarray],
    factor_rr: Mapping[str, float],
    trend: Trend | None,
) -> tuple[np.ndarray, np.ndarray]:
    """DMCS multipliers per site before and during the trend period."""
    base = np.ones(len(sites.x))
    for code, rr in elevated.items():
        base[site_unit == code] *= rr
    for code, flags in near.items():
        base[flags] *= factor_rr.get(code, 1.0)
    during = base.copy()
    if trend is not None:
        during[site_unit == trend.unit] *= trend.ratio
    return base, during


def expected_relative_rates(
    sites: Sites, areas: list[Area], base: np.ndarray, during: np.ndarray
) -> dict[str, dict[str, dict[str, float]]]:
    """Per level and unit: mean multiplier per resident over the comuna's, by period."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for level in ("barrio", "micro_barrio"):
        of_area = [a.barrio if level == "barrio" else a.micro_barrio for a in areas]
        codes = sorted({u for u in of_area if u is not None})
        if not codes:
            continue
        index = np.array([codes.index(u) if u is not None else len(codes) for u in of_area])
        unit = index[sites.area]
        residents = np.bincount(unit, weights=sites.weight, minlength=len(codes) + 1)
        rows: dict[str, dict[str, float]] = {code: {} for code in codes}
        for name, values in (("baseline", base), ("trend", during)):
            mean = float(np.average(values, weights=sites.weight))
            load = np.bincount(unit, weights=sites.weight * values, minlength=len(codes) + 1)
            for i, code in enumerate(codes):
                rows[code][name] = round(float(load[i] / residents[i]) / mean, 4)
        out[level] = rows
    return out


NEAR_REPEAT_RULE = (
    "Las denuncias de la categoría se recorren en orden de tiempo; cada una, con "
    "probabilidad `share`, se traslada junto a una denuncia anterior de la misma categoría "
    "de los `days` días previos (elegida al azar entre ellas, si hay): uniforme a menos de "
    "`radius_m` metros de ella (en su mismo punto si así saldría de su área). Fechas, "
    "volúmenes y categorías no cambian."
)


def near_repeat_moves(
    x: np.ndarray,
    y: np.ndarray,
    days: np.ndarray,
    spec: PlantedSpec,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New places (metres) of one category's complaints and, per complaint, the index of
    the earlier one it was moved next to (-1: not moved). Inputs in any order."""
    x, y = x.astype(float).copy(), y.astype(float).copy()
    parent = np.full(len(x), -1)
    order = np.argsort(days, kind="stable")
    sorted_days = days[order]
    draws = rng.random((len(x), 4))
    for rank, k in enumerate(order):
        if draws[rank, 0] >= spec.near_repeat_share:
            continue
        first = int(np.searchsorted(sorted_days, days[k] - spec.near_repeat_days, "left"))
        earlier = order[first:rank]
        earlier = earlier[days[earlier] < days[k]]
        if len(earlier) == 0:
            continue
        p = int(earlier[min(int(draws[rank, 1] * len(earlier)), len(earlier) - 1)])
        radius = spec.near_repeat_radius_m * np.sqrt(draws[rank, 2])
        angle = 2 * np.pi * draws[rank, 3]
        x[k], y[k] = x[p] + radius * np.cos(angle), y[p] + radius * np.sin(angle)
        parent[k] = p
    return x, y, parent


def all_factor_types() -> list[str]:
    return [code for code, *_ in FACTOR_TYPES]
