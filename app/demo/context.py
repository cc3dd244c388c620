"""The demo's synthetic context layers, as GeoJSON files loaded through `vigia context load`'s
own loader (nothing of the loader is bypassed: same checks, same upsert, marked synthetic).

Two types, deliberately different:
- `botilleria`: placed on a sample of the world's complaint locations, so crime sits
  around them (an association by construction; not a calibrated relative risk: the
  risk-terrain model's recovery tests will plant their own).
- `paradero`: placed where people live (the areas' residential part, weighted by
  population), independent of crime: a layer with no planted effect.
Deterministic for the seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.demo.places import build_areas, uniform_points
from app.demo.world import COORDINATE_DECIMALS, DemoWorld

SOURCE_NAME = "demo"
LIQUOR_STORES = 12
BUS_STOPS = 20


def _point(index: int, prefix: str, lon: float, lat: float, **props: Any) -> dict[str, Any]:
    coordinates = [round(lon, COORDINATE_DECIMALS), round(lat, COORDINATE_DECIMALS)]
    return {
        "type": "Feature",
        "properties": {"id": f"{prefix}-{index + 1:03d}", **props},
        "geometry": {"type": "Point", "coordinates": coordinates},
    }


def context_collections(world: DemoWorld, *, seed: int) -> dict[str, dict[str, Any]]:
    """{layer type: FeatureCollection} of the demo's context layers."""
    rng = np.random.default_rng([seed, 7])
    complaints = world.complaints
    chosen = rng.choice(len(complaints), size=min(LIQUOR_STORES, len(complaints)), replace=False)
    liquor = [
        _point(i, "DEMO-BOT", float(row.lon), float(row.lat), efecto_plantado="cerca de denuncias")
        for i, row in enumerate(complaints.iloc[np.sort(chosen)].itertuples())
    ]
    areas = [a for a in build_areas(world.sources) if not a.rural] or build_areas(world.sources)
    weights = np.array([a.population for a in areas], dtype=float)
    picks = rng.choice(len(areas), size=BUS_STOPS, p=weights / weights.sum())
    stops = []
    for i, area_index in enumerate(picks):
        lon, lat = uniform_points(areas[area_index].residential, 1, rng)
        stops.append(_point(i, "DEMO-PAR", float(lon[0]), float(lat[0]), efecto_plantado="ninguno"))
    return {
        "botilleria": {"type": "FeatureCollection", "features": liquor},
        "paradero": {"type": "FeatureCollection", "features": stops},
    }
