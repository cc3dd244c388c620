"""The demo's police-reported risk factors, planned without a database.

Where each factor is (a resident site of a town area: factors are where people are), its
type, severity, geometry and its whole lifecycle (received, validated, ..., resolved), with
plausible delays: some still waiting, some overdue, most resolved. `app.demo.risk_factors`
replays the plan through the real submission and transition services; recovery experiments
read it directly. Deterministic for the generator passed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.demo.places import Area, LocalProjection, Sites

# (type code, relative frequency, severity range, note)
_LIGHT_NOTE = "Luminaria apagada en pasaje; vecinos señalan robos de noche."
_ALARM_NOTE = "Villa sin alarma comunitaria; la junta de vecinos la pide."
FACTOR_TYPES = (
    ("luminaria_apagada", 30, (2, 4), _LIGHT_NOTE),
    ("tramo_sin_iluminacion", 10, (3, 5), "Tramo oscuro entre la plaza y el paradero."),
    ("follaje_obstruye", 20, (2, 4), "Árbol tapa la luminaria y la visibilidad de la esquina."),
    ("microbasural", 15, (1, 3), "Acumulación de basura y escombros junto al canal."),
    ("sitio_eriazo", 8, (2, 4), "Sitio sin cierre usado de noche para consumo."),
    ("inmueble_abandonado", 5, (3, 5), "Casa abandonada con accesos abiertos."),
    ("sin_alarma_comunitaria", 6, (2, 4), _ALARM_NOTE),
    ("espacio_publico_deteriorado", 8, (2, 3), "Paradero sin techo ni iluminación."),
    ("punto_ciego", 5, (3, 4), "Acceso al puente sin visibilidad desde la calle."),
)  # fmt: skip
LINE_TYPES = frozenset({"tramo_sin_iluminacion"})  # reported as a stretch of street
REPORT_WINDOW_DAYS = (3.0, 360.0)  # received between 3 and 360 days before the window's end
# where a report's story ends: share of reports
FATES = (
    ("reportado", 0.08),
    ("validado", 0.07),
    ("derivado", 0.15),
    ("en_gestion", 0.17),
    ("resuelto", 0.48),
    ("descartado", 0.05),
)
PATH = ("validado", "derivado", "en_gestion", "resuelto")
MIN_REQUIRED = 3  # reports of each type with a planted effect, at least
NOT_REAL = frozenset({"descartado", "duplicado"})  # reports that name no real condition


@dataclass(frozen=True)
class PlannedFactor:
    serial: int  # 1-based, the submission's idempotency key carries it
    type: str
    severity: int
    geometry: dict[str, object]  # GeoJSON Point or LineString (lon/lat)
    lon: float  # anchor: the geometry's point on surface (where the database places it)
    lat: float
    area: int  # index of the area the anchor was drawn in
    observed_at: datetime
    received_at: datetime
    steps: tuple[tuple[str, datetime], ...]  # transitions after the submission, in order
    expected_days: int
    note: str
    reporting_unit: str
    officer_id: str

    @property
    def status(self) -> str:
        return self.steps[-1][0] if self.steps else "reportado"

    @property
    def resolved_at(self) -> datetime | None:
        return next((at for status, at in self.steps if status == "resuelto"), None)

    @property
    def real(self) -> bool:
        """A condition that exists (its report was not discarded as unfounded)."""
        return self.status not in NOT_REAL

    def shape(self) -> BaseGeometry:
        return shape(self.geometry)


def _line(
    lon: float, lat: float, area: Area, rng: np.random.Generator, projection: LocalProjection
) -> dict[str, object]:
    """A 60-180 m stretch from the site, turned until its end stays inside the area."""
    length = float(rng.uniform(60, 180))
    heading = float(rng.uniform(0, math.pi))
    x0, y0 = projection.to_metres(np.array([lon]), np.array([lat]))
    for turn in range(8):
        angle = heading + turn * math.pi / 4
        ex, ey = projection.to_lonlat(x0 + length * math.cos(angle), y0 + length * math.sin(angle))
        if shapely.contains_xy(area.geom, ex, ey)[0]:
            break
        length *= 0.8
    return {"type": "LineString", "coordinates": [[lon, lat], [float(ex[0]), float(ey[0])]]}


def _lifecycle(
    received: datetime, days: int, rng: np.random.Generator, until: datetime
) -> tuple[tuple[str, datetime], ...]:
    fates = [f for f, _ in FATES]
    fate = fates[int(rng.choice(len(fates), p=np.array([p for _, p in FATES])))]
    if fate == "reportado":
        path: list[str] = []
    elif fate in PATH:
        path = list(PATH[: PATH.index(fate) + 1])
    else:
        path = ["validado", fate]
    steps = []
    at = received
    for step in path:
        gap = (
            days * float(rng.uniform(0.05, 0.6))
            if step == "resuelto"
            else float(rng.uniform(0.2, 4))
        )
        at = min(at + timedelta(days=gap), until - timedelta(hours=1))
        steps.append((step, at))
    return tuple(steps)


def plan_factors(
    count: int,
    *,
    sites: Sites,
    areas: list[Area],
    projection: LocalProjection,
    expected_days: Mapping[str, int],
    window_end: datetime,
    rng: np.random.Generator,
    required: tuple[str, ...] = (),
) -> list[PlannedFactor]:
    """`count` factors at resident sites of the town areas (all areas when none is a town).

    Types are drawn by their demo frequency, except that the first reports go to the
    `required` types in turn (MIN_REQUIRED each, as far as `count` allows), so a type with
    a planted effect is never missing from a seed's world.
    """
    types = [t for t in FACTOR_TYPES if t[0] in expected_days]
    if count <= 0 or not types:
        return []
    town = np.array([not a.rural for a in areas])
    eligible = town[sites.area] if town.any() else np.ones(len(sites.area), dtype=bool)
    weights = np.where(eligible, sites.weight, 0.0)
    chosen = rng.choice(len(weights), size=count, p=weights / weights.sum())
    frequency = np.array([w for _, w, _, _ in types], dtype=float)
    kinds = rng.choice(len(types), size=count, p=frequency / frequency.sum())
    codes = [t[0] for t in types]
    forced = [codes.index(t) for t in required if t in codes] * MIN_REQUIRED
    kinds[: min(count, len(forced))] = forced[:count]
    planned = []
    for serial, (site, kind) in enumerate(zip(chosen, kinds, strict=True), start=1):
        code, _, (low, high), note = types[int(kind)]
        lon, lat = float(sites.lon[site]), float(sites.lat[site])
        area = int(sites.area[site])
        geometry: dict[str, object] = (
            _line(lon, lat, areas[area], rng, projection)
            if code in LINE_TYPES
            else {"type": "Point", "coordinates": [lon, lat]}
        )
        anchor = shapely.point_on_surface(shape(geometry))
        received = window_end - timedelta(days=float(rng.uniform(*REPORT_WINDOW_DAYS)))
        days = int(expected_days.get(code) or 30)
        planned.append(
            PlannedFactor(
                serial=serial,
                type=code,
                severity=int(rng.integers(low, high + 1)),
                geometry=geometry,
                lon=float(anchor.x),
                lat=float(anchor.y),
                area=area,
                observed_at=received - timedelta(hours=float(rng.uniform(0.2, 20))),
                received_at=received,
                steps=_lifecycle(received, days, rng, window_end),
                expected_days=days,
                note=note,
                reporting_unit=f"Cuadrante {int(rng.integers(1, 4))}",
                officer_id=f"DEMO-{int(rng.integers(1000, 9999))}",
            )
        )
    return planned
