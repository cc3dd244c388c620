"""Where people live, as a cloud of weighted points: the demo generator's map of residents.

Each finest unit of the territory becomes an `Area`: a micro-barrio, a barrio without
micro-barrios, or the part of a barrio its micro-barrios leave out (when its population is
larger than theirs). The area's population is spread uniformly over where people live in
it: its census blocks when the comuna's block file covers it, otherwise its whole polygon;
rural areas (no blocks, and named rural sectors to hand) around the sectors, as hamlets
along the roads. `sample_sites` draws a fixed number of points per area, each carrying its
share of the area's residents, so a draw proportional to the site weights is proportional
to population unit by unit: the null world by construction.

Distances are in metres on a local equirectangular projection centred on the comuna
(`LocalProjection`): at a comuna's scale its error is far below a metre per 100 m.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from app.demo.sources import DemoSources

SITES_PER_AREA = 2000
RURAL_SPREAD_M = 900.0
JITTER_M = 4.0  # a complaint lands within a few metres of its site, so no two coincide
_METRES_PER_DEGREE = 111_320.0


COORDINATE_DECIMALS = 6  # ~0.1 m, as the demo rows are written (app/demo/complaints.py)


@dataclass(frozen=True)
class Area:
    barrio: str
    micro_barrio: str | None
    population: int
    geom: BaseGeometry  # the area's polygon (lon/lat)
    residential: BaseGeometry  # where its residents are spread
    rural: bool


@dataclass(frozen=True)
class LocalProjection:
    lon0: float
    lat0: float

    @classmethod
    def centred_on(cls, geom: BaseGeometry) -> LocalProjection:
        centre = geom.centroid
        return cls(centre.x, centre.y)

    @property
    def _kx(self) -> float:
        return _METRES_PER_DEGREE * math.cos(math.radians(self.lat0))

    def to_metres(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (lon - self.lon0) * self._kx, (lat - self.lat0) * _METRES_PER_DEGREE

    def to_lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.lon0 + x / self._kx, self.lat0 + y / _METRES_PER_DEGREE

    def geometry(self, geom: BaseGeometry) -> BaseGeometry:
        """A lon/lat geometry in metres."""
        return shapely.transform(
            geom, lambda xy: np.column_stack(self.to_metres(xy[:, 0], xy[:, 1]))
        )


@dataclass(frozen=True)
class Sites:
    """Weighted points standing for the residents (arrays of one length)."""

    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray  # metres (LocalProjection)
    y: np.ndarray
    area: np.ndarray  # index into the areas
    weight: np.ndarray  # residents the site stands for
    sector: np.ndarray  # index into the rural sector names, -1 in towns


def build_areas(sources: DemoSources) -> list[Area]:
    """The finest units where people live, in code order (computed once per sources)."""
    if "areas" not in sources.cache:
        sources.cache["areas"] = _build_areas(sources)
    return list(sources.cache["areas"])


def _build_areas(sources: DemoSources) -> list[Area]:
    micro_by_barrio: dict[str, list] = {}
    for micro in sources.micro_barrios:
        micro_by_barrio.setdefault(micro.barrio, []).append(micro)
    areas: list[Area] = []
    for barrio in sorted(sources.barrios, key=lambda b: b.code):
        blocks = shapely.union_all(barrio.blocks) if barrio.blocks else None
        micros = sorted(micro_by_barrio.get(barrio.code, []), key=lambda m: m.code)
        for micro in micros:
            areas.append(_area(barrio.code, micro.code, micro.population, micro.geom, blocks, []))
        rest = barrio.population - sum(m.population for m in micros)
        geom = barrio.geom
        if micros:
            geom = barrio.geom.difference(shapely.union_all([m.geom for m in micros]))
        if rest > 0 and not geom.is_empty and geom.area > 0:
            areas.append(_area(barrio.code, None, rest, geom, blocks, sources.rural_sectors))
    return areas


def _area(
    barrio: str,
    micro: str | None,
    population: int,
    geom: BaseGeometry,
    blocks: BaseGeometry | None,
    sectors: list[str],
) -> Area:
    residential = geom.intersection(blocks) if blocks is not None else geom
    if residential.is_empty or residential.area <= 0:
        residential = geom
    rural = blocks is None and bool(sectors)
    return Area(barrio, micro, population, geom, residential, rural)


def uniform_points(
    geom: BaseGeometry, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`n` points uniform inside `geom` (vectorised rejection in its bounding box)."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    have, accepted, proposed = 0, 1, 1
    for _ in range(100):
        if have >= n:
            break
        k = int(min(2_000_000, max(256, (n - have) * proposed / accepted * 1.2)))
        x, y = rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)
        inside = shapely.contains_xy(geom, x, y)
        accepted, proposed = accepted + int(inside.sum()), proposed + k
        xs.append(x[inside])
        ys.append(y[inside])
        have += int(inside.sum())
    if have < n:  # a sliver: fall back to a point that is surely inside
        point = geom.representative_point()
        xs.append(np.full(n - have, point.x))
        ys.append(np.full(n - have, point.y))
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def _rural_points(
    area: Area, n: int, sectors: int, projection: LocalProjection, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points around `sectors` hamlets (gamma-weighted), normal spread, kept inside the area."""
    cx, cy = uniform_points(area.geom, sectors, rng)
    weights = rng.gamma(1.0, 1.0, sectors)
    shapely.prepare(area.geom)
    lon_parts, lat_parts, sector_parts = [], [], []
    have = 0
    for _ in range(100):
        if have >= n:
            break
        k = 2 * (n - have) + 64
        which = rng.choice(sectors, size=k, p=weights / weights.sum())
        x0, y0 = projection.to_metres(cx[which], cy[which])
        lon, lat = projection.to_lonlat(
            x0 + rng.normal(0.0, RURAL_SPREAD_M, k), y0 + rng.normal(0.0, RURAL_SPREAD_M, k)
        )
        inside = shapely.contains_xy(area.geom, lon, lat)
        lon_parts.append(lon[inside])
        lat_parts.append(lat[inside])
        sector_parts.append(which[inside])
        have += int(inside.sum())
    return (
        np.concatenate(lon_parts)[:n],
        np.concatenate(lat_parts)[:n],
        np.concatenate(sector_parts)[:n],
    )


def sample_sites(
    areas: list[Area],
    sectors: int,
    projection: LocalProjection,
    rng: np.random.Generator,
    per_area: int = SITES_PER_AREA,
) -> Sites:
    """`per_area` points per populated area, each weighted population / per_area."""
    lon_parts, lat_parts, area_parts, weight_parts, sector_parts = [], [], [], [], []
    for index, area in enumerate(areas):
        if area.population <= 0:
            continue
        if area.rural and sectors:
            lon, lat, sector = _rural_points(area, per_area, sectors, projection, rng)
        else:
            lon, lat = uniform_points(area.residential, per_area, rng)
            sector = np.full(per_area, -1)
        lon_parts.append(lon)
        lat_parts.append(lat)
        sector_parts.append(sector)
        area_parts.append(np.full(len(lon), index))
        weight_parts.append(np.full(len(lon), area.population / len(lon)))
    lon, lat = np.concatenate(lon_parts), np.concatenate(lat_parts)
    x, y = projection.to_metres(lon, lat)
    return Sites(
        lon=lon,
        lat=lat,
        x=x,
        y=y,
        area=np.concatenate(area_parts),
        weight=np.concatenate(weight_parts),
        sector=np.concatenate(sector_parts),
    )


def jitter(
    sites: Sites,
    chosen: np.ndarray,
    areas: list[Area],
    projection: LocalProjection,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """The chosen sites moved up to JITTER_M metres, unless that leaves the site's area."""
    n = len(chosen)
    radius = JITTER_M * np.sqrt(rng.random(n))
    angle = rng.uniform(0.0, 2 * math.pi, n)
    lon, lat = projection.to_lonlat(
        sites.x[chosen] + radius * np.cos(angle), sites.y[chosen] + radius * np.sin(angle)
    )
    area = sites.area[chosen]
    for index in np.unique(area):
        mask = area == index
        outside = ~shapely.contains_xy(areas[int(index)].geom, lon[mask], lat[mask])
        back = np.flatnonzero(mask)[outside]
        lon[back], lat[back] = sites.lon[chosen[back]], sites.lat[chosen[back]]
    return lon, lat


def locate(lon: np.ndarray, lat: np.ndarray, sources: DemoSources) -> tuple[np.ndarray, np.ndarray]:
    """Barrio and micro-barrio codes of each point (None outside), as the database assigns
    them: the first unit by code that intersects the point, the micro-barrio within its barrio.
    """
    barrio = np.full(len(lon), None, dtype=object)
    micro = np.full(len(lon), None, dtype=object)
    for unit in sorted(sources.barrios, key=lambda b: b.code):
        shapely.prepare(unit.geom)
        hit = (barrio == None) & shapely.intersects_xy(unit.geom, lon, lat)  # noqa: E711
        barrio[hit] = unit.code
    for m in sources.micro_barrios:
        shapely.prepare(m.geom)
        hit = (micro == None) & (barrio == m.barrio) & shapely.intersects_xy(m.geom, lon, lat)  # noqa: E711
        micro[hit] = m.code
    return barrio, micro
