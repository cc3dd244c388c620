"""One synthetic world per seed, without a database: the entry point of recovery experiments.

    sources = sources_from_files(Path("data/barrios.geojson"), Path("data"))  # cached
    world = simulate(sources, seed=7, end=date(2025, 12, 1), years=5, signal=True)
    world.complaints    # category, occurred_at, lon, lat, barrio, micro_barrio
    world.risk_factors  # type, severity, lon, lat, unit codes, received/resolved dates...
    world.truth         # PlantedTruth: what was planted (world.truth.to_json())
    table = ranking_inputs(world, level="micro_barrio", period=Period(...))

`vigia demo-data` imports the same world (app/demo/complaints.py adds external references
and addresses). Randomness comes in independent streams per purpose, so the null world of a
seed (`signal=False`) has the same monthly volumes, timestamps and risk factors as its
signal world, and differs only in where the DMCS complaints fall.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
import shapely

from app.demo import factors as demo_factors
from app.demo import places, planted
from app.demo.intervention import PlantedIntervention, intervene
from app.demo.places import COORDINATE_DECIMALS
from app.demo.sources import DemoSources
from app.migrations import seeded_risk_factor_days
from app.timezone import CHILE_TZ

# Share of complaints per hour of the day (0-23): quiet before dawn, peaks in the evening.
_HOURLY = np.array(
    [3, 2, 2, 1.5, 1, 1, 1.5, 2.5, 3.5, 4, 4.5, 5, 5, 5, 5, 5, 5.5, 6, 6.5, 7, 7, 6.5, 5.5, 4]
)
_HOURLY = _HOURLY / _HOURLY.sum()
# 7 is the addresses' stream (app/demo/complaints.py)
_STREAMS = {
    "volumes": 1,
    "times": 2,
    "sites": 3,
    "place": 4,
    "units": 5,
    "factors": 6,
    "near_repeat": 8,
    "intervention": 9,
}
DEFAULT_RISK_FACTORS = 60


def stream(seed: int, name: str) -> np.random.Generator:
    """The seed's independent random stream for one purpose."""
    return np.random.default_rng([seed, _STREAMS[name]])


@dataclass(frozen=True)
class DemoWorld:
    complaints: pd.DataFrame  # category, occurred_at (Chile), lon, lat, barrio, micro_barrio
    risk_factors: pd.DataFrame  # one row per report (see `_factor_frame`)
    factor_timeline: pd.DataFrame  # serial, status, at: every status a report went through
    truth: planted.PlantedTruth
    sources: DemoSources
    factors: list[demo_factors.PlannedFactor]  # the plan `vigia demo-data` submits
    sector: np.ndarray  # per complaint: index of its rural sector, -1 in towns
    intervention: PlantedIntervention | None = None  # when the spec plants one


def months_back(end: date, years: int) -> list[date]:
    """The 12*years months ending with `end`'s month, oldest first."""
    months = []
    year, month = end.year, end.month
    for _ in range(12 * years):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _monthly_count(values: dict[date, float], month: date, rng: np.random.Generator) -> int:
    if month in values:
        return int(round(values[month]))
    last_year = max(m.year for m in values)
    same = values.get(date(last_year, month.month, 1))
    if same is None:
        same = float(np.mean(list(values.values())))
    return int(rng.poisson(same))


def monthly_counts(
    sources: DemoSources, months: list[date], rng: np.random.Generator
) -> list[tuple[date, str, int]]:
    """(month, category, count): each CEAD series' count of the month (months past the
    series repeat the same calendar month of its last year, drawn from a Poisson law), split
    over the catalog leaves sharing it; leaves without a series add a small Poisson amount.
    """
    out = []
    for month in months:
        counts: dict[str, int] = defaultdict(int)
        for series, codes in sorted(sources.leaves.items()):
            values = sources.monthly.get(series)
            if not values:
                continue
            n = _monthly_count(values, month, rng)
            if n <= 0:
                continue
            shares = np.array([sources.leaf_shares[c] for c in codes])
            for code, k in zip(codes, rng.multinomial(n, shares / shares.sum()), strict=True):
                counts[code] += int(k)
        for code, mean in sorted(sources.extra_monthly_mean.items()):
            counts[code] += int(rng.poisson(mean))
        out += [(month, code, counts[code]) for code in sorted(counts) if counts[code] > 0]
    return out


def _draw(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    cdf = np.cumsum(weights)
    return np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), len(cdf) - 1)


def _timestamps(
    month_of: np.ndarray, months: list[date], rng: np.random.Generator
) -> list[datetime]:
    days = np.array([calendar.monthrange(m.year, m.month)[1] for m in months])[month_of]
    day = np.floor(rng.random(len(month_of)) * days).astype(int)
    hour = rng.choice(24, size=len(month_of), p=_HOURLY)
    minute = rng.integers(0, 60, len(month_of))
    return [
        (datetime(m.year, m.month, 1, int(h), int(mi)) + timedelta(days=int(d))).replace(
            tzinfo=CHILE_TZ
        )
        for m, d, h, mi in zip((months[i] for i in month_of), day, hour, minute, strict=True)
    ]


def simulate(
    sources: DemoSources,
    *,
    seed: int,
    end: date,
    years: int = 5,
    signal: bool = True,
    risk_factors: int = DEFAULT_RISK_FACTORS,
    spec: planted.PlantedSpec | None = None,
    expected_days: Mapping[str, int] | None = None,
) -> DemoWorld:
    """The complaints of `years` years up to `end`'s month, the risk factors and the truth.

    `expected_days` (type -> days): the catalog's deadlines, which time the resolutions;
    default the catalog a fresh database is seeded with.
    """
    spec = spec or planted.PlantedSpec()
    months = months_back(end, years)
    window = (months[0], _next_month(months[-1]))
    window_end = datetime.combine(window[1], time.min, tzinfo=CHILE_TZ)
    areas = places.build_areas(sources)
    bounds = np.array([b.geom.bounds for b in sources.barrios])
    projection = places.LocalProjection(
        float(bounds[:, 0].min() + bounds[:, 2].max()) / 2,
        float(bounds[:, 1].min() + bounds[:, 3].max()) / 2,
    )
    sites = places.sample_sites(
        areas, len(sources.rural_sectors), projection, stream(seed, "sites")
    )
    plan = demo_factors.plan_factors(
        risk_factors,
        sites=sites,
        areas=areas,
        projection=projection,
        expected_days=expected_days or seeded_risk_factor_days(),
        window_end=window_end,
        rng=stream(seed, "factors"),
        required=tuple(sorted(spec.factor_rr)),
    )
    truth, base, during = _plant(
        sources, areas, sites, plan, projection, spec, seed=seed, signal=signal, months=months
    )
    near_repeat = spec if signal and spec.near_repeat_category else None
    complaints, sector, moved = _complaints(
        sources,
        months,
        sites,
        areas,
        projection,
        truth,
        base,
        during,
        seed=seed,
        near_repeat=near_repeat,
    )
    if near_repeat is not None:
        truth = replace(truth, near_repeat=_near_repeat_truth(near_repeat, moved))
    planted_iv = None
    if spec.intervention_drop is not None and len(months) > spec.intervention_months:
        start = months[-spec.intervention_months]
        places_ = (sources, sites, areas, projection, plan)
        rng = stream(seed, "intervention")
        complaints, keep, planted_iv = intervene(complaints, places_, spec, start, signal, rng)
        sector = sector[keep]
        if planted_iv is not None:
            truth = replace(truth, intervention=planted_iv.as_dict())
    frame, timeline = _factor_frames(plan, sources)
    return DemoWorld(complaints, frame, timeline, truth, sources, plan, sector, planted_iv)


def _complaints(
    sources: DemoSources,
    months: list[date],
    sites: places.Sites,
    areas: list[places.Area],
    projection: places.LocalProjection,
    truth: planted.PlantedTruth,
    base: np.ndarray,
    during: np.ndarray,
    *,
    seed: int,
    near_repeat: planted.PlantedSpec | None = None,
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """The complaints (CEAD volumes, placed by the site weights), their rural sectors and
    how many were moved by the near-repeat pattern (when `near_repeat` is given)."""
    counts = monthly_counts(sources, months, stream(seed, "volumes"))
    month_index = {m: i for i, m in enumerate(months)}
    month_of = np.repeat([month_index[m] for m, _, _ in counts], [n for _, _, n in counts])
    category = np.repeat([c for _, c, _ in counts], [n for _, _, n in counts])
    dmcs = np.isin(category, sorted(sources.dmcs_codes))
    trend_from = month_index.get(truth.trend.trend[0], len(months)) if truth.trend else len(months)
    rng = stream(seed, "place")
    chosen = np.empty(len(category), dtype=int)
    for mask, weights in (
        (~dmcs, sites.weight),
        (dmcs & (month_of < trend_from), sites.weight * base),
        (dmcs & (month_of >= trend_from), sites.weight * during),
    ):
        chosen[mask] = _draw(weights, int(mask.sum()), rng)
    lon, lat = places.jitter(sites, chosen, areas, projection, rng)
    occurred = pd.DatetimeIndex(_timestamps(month_of, months, stream(seed, "times")))
    moved = 0
    if near_repeat is not None:
        moved = _near_repeat(
            near_repeat, category, occurred, lon, lat, chosen, sites, areas, projection, seed
        )
    # the precision the rows are imported with: both paths then place each point alike
    lon, lat = np.round(lon, COORDINATE_DECIMALS), np.round(lat, COORDINATE_DECIMALS)
    barrio, micro = places.locate(lon, lat, sources)
    frame = pd.DataFrame(
        {
            "category": category,
            "occurred_at": occurred,
            "lon": lon,
            "lat": lat,
            "barrio": barrio,
            "micro_barrio": micro,
        }
    )
    return frame, sites.sector[chosen], moved


def _near_repeat(
    spec: planted.PlantedSpec,
    category: np.ndarray,
    occurred: pd.DatetimeIndex,
    lon: np.ndarray,
    lat: np.ndarray,
    chosen: np.ndarray,
    sites: places.Sites,
    areas: list[places.Area],
    projection: places.LocalProjection,
    seed: int,
) -> int:
    """Moves the category's near repeats in place (lon, lat, chosen); returns how many."""
    index = np.flatnonzero(category == spec.near_repeat_category)
    if len(index) == 0:
        return 0
    x, y = projection.to_metres(lon[index], lat[index])
    days = (occurred[index] - occurred[index].min()).total_seconds().to_numpy() / 86400
    new_x, new_y, parent = planted.near_repeat_moves(x, y, days, spec, stream(seed, "near_repeat"))
    # in time order, so that a parent is already where it ends up; the offset drawn from it
    # is kept even when the parent itself fell back to its own parent's point
    for k in np.argsort(days, kind="stable"):
        if parent[k] < 0:
            continue
        target, source = index[k], index[parent[k]]
        px, py = projection.to_metres(lon[source : source + 1], lat[source : source + 1])
        dx, dy = new_x[k] - new_x[parent[k]], new_y[k] - new_y[parent[k]]
        new_lon, new_lat = projection.to_lonlat(px + dx, py + dy)
        area = areas[int(sites.area[chosen[source]])].geom
        if shapely.contains_xy(area, float(new_lon[0]), float(new_lat[0])):
            lon[target], lat[target] = float(new_lon[0]), float(new_lat[0])
        else:
            lon[target], lat[target] = lon[source], lat[source]
        chosen[target] = chosen[source]
    return int((parent >= 0).sum())


def _near_repeat_truth(spec: planted.PlantedSpec, moved: int) -> dict[str, object]:
    return {
        "category": spec.near_repeat_category,
        "share": spec.near_repeat_share,
        "radius_m": spec.near_repeat_radius_m,
        "days": spec.near_repeat_days,
        "moved": moved,
        "rule": planted.NEAR_REPEAT_RULE,
    }


def _plant(
    sources: DemoSources,
    areas: list[places.Area],
    sites: places.Sites,
    plan: list[demo_factors.PlannedFactor],
    projection: places.LocalProjection,
    spec: planted.PlantedSpec,
    *,
    seed: int,
    signal: bool,
    months: list[date],
) -> tuple[planted.PlantedTruth, np.ndarray, np.ndarray]:
    level, area_units = planted.unit_of_areas(areas)
    site_unit = np.array(area_units, dtype=object)[sites.area]
    k = spec.trend_months
    with_trend = len(months) >= 2 * k
    elevated, trend_unit = planted.choose_units(
        areas, spec, stream(seed, "units"), with_trend=with_trend
    )
    trend = None
    if signal and trend_unit is not None:
        trend = planted.Trend(
            unit=trend_unit,
            ratio=spec.trend_ratio,
            baseline=(months[-2 * k], months[-k]),
            trend=(months[-k], _next_month(months[-1])),
        )
    types = planted.all_factor_types()
    factor_rr = {t: float(spec.factor_rr.get(t, 1.0)) if signal else 1.0 for t in types}
    elevated_rr = dict.fromkeys(elevated, spec.elevated_rr) if signal else {}
    near = planted.near_factor_types(
        sites, plan, projection, spec.factor_radius_m, sorted(spec.factor_rr), spec.factor_cell_m
    )
    base, during = planted.site_multipliers(sites, site_unit, elevated_rr, near, factor_rr, trend)
    residents = float(sites.weight.sum())
    truth = planted.PlantedTruth(
        seed=seed,
        signal=signal,
        window=(months[0], _next_month(months[-1])),
        unit_level=level,
        elevated=elevated_rr,
        trend=trend,
        factor_rr=factor_rr,
        factor_radius_m=spec.factor_radius_m,
        factor_count={t: sum(1 for f in plan if f.type == t and f.real) for t in types},
        resident_share_near={
            t: round(float(sites.weight[flags].sum()) / residents, 4) for t, flags in near.items()
        },
        signal_categories=tuple(sorted(sources.dmcs_codes)) if signal else (),
        expected_relative_rate=planted.expected_relative_rates(sites, areas, base, during),
        spec=spec.as_dict(),
    )
    return truth, base, during


def _factor_frames(
    plan: list[demo_factors.PlannedFactor], sources: DemoSources
) -> tuple[pd.DataFrame, pd.DataFrame]:
    lon = np.array([f.lon for f in plan], dtype=float)
    lat = np.array([f.lat for f in plan], dtype=float)
    barrio, micro = places.locate(lon, lat, sources)
    frame = pd.DataFrame(
        {
            "serial": [f.serial for f in plan],
            "type": [f.type for f in plan],
            "severity": [f.severity for f in plan],
            "lon": lon,
            "lat": lat,
            "geometry": [f.geometry for f in plan],
            "barrio": barrio,
            "micro_barrio": micro,
            "observed_at": pd.to_datetime([f.observed_at for f in plan], utc=True),
            "received_at": pd.to_datetime([f.received_at for f in plan], utc=True),
            "resolved_at": pd.to_datetime([f.resolved_at for f in plan], utc=True),
            "status": [f.status for f in plan],
            "expected_days": [f.expected_days for f in plan],
            "real": [f.real for f in plan],
        }
    )
    timeline = pd.DataFrame(
        [
            (f.serial, status, at)
            for f in plan
            for status, at in (("reportado", f.received_at), *f.steps)
        ],
        columns=["serial", "status", "at"],
    )
    timeline["at"] = pd.to_datetime(timeline["at"], utc=True)
    return frame, timeline
