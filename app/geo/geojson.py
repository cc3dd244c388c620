"""Strict RFC 7946 geometry parsing.

Shapely happily accepts what RFC 7946 forbids (a `crs` member, 3-D positions, unclosed rings
it closes silently, NaN), so positions are checked here before shapely sees them. Every
problem is reported as a Spanish reason a field officer or a GIS technician can act on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
)
# How deep the "coordinates" arrays nest for each type (a position is depth 1).
_DEPTH = {
    "Point": 1,
    "MultiPoint": 2,
    "LineString": 2,
    "MultiLineString": 3,
    "Polygon": 3,
    "MultiPolygon": 4,
}


class GeometryError(ValueError):
    """A geometry that breaks RFC 7946 or is not valid; `reason` is in Spanish."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def check_no_crs(obj: Any, where: str = "el documento") -> None:
    if isinstance(obj, dict) and "crs" in obj:
        raise GeometryError(
            f"{where} trae un miembro 'crs', que RFC 7946 eliminó: las coordenadas deben ir "
            "en WGS 84 (longitud, latitud) sin declarar sistema de referencia"
        )


# GEOS (and PostGIS's ST_IsValidReason) explain invalidity in English; keep the original
# (GIS tools search for it) and put the Spanish meaning first.
_GEOS_REASONS = {
    "Self-intersection": "el contorno se cruza a sí mismo (polígono en 'corbatín')",
    "Ring Self-intersection": "un anillo se toca a sí mismo",
    "Too few points": "muy pocos puntos",
    "Hole lies outside shell": "un agujero queda fuera del anillo exterior",
    "Nested shells": "polígonos anidados",
    "Interior is disconnected": "el interior queda desconectado",
    "Nested holes": "agujeros anidados",
    "Duplicate Rings": "anillos duplicados",
    "Invalid Coordinate": "coordenada no válida",
}


def describe_invalidity(reason: str) -> str:
    """'Self-intersection[-72.7 -39.4]' -> Spanish meaning, with the GEOS text kept."""
    key = reason.split("[", 1)[0].strip()
    spanish = _GEOS_REASONS.get(key)
    return f"{spanish} ({reason})" if spanish else reason


def _check_position(pos: Any) -> tuple[float, float]:
    if not isinstance(pos, list | tuple):
        raise GeometryError(f"una posición debe ser un arreglo [longitud, latitud], no {pos!r}")
    if len(pos) < 2:
        raise GeometryError("una posición necesita longitud y latitud")
    if len(pos) > 2:
        raise GeometryError("solo se aceptan coordenadas 2-D [longitud, latitud], sin altura")
    lon, lat = pos
    for value in (lon, lat):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise GeometryError(f"las coordenadas deben ser números, no {value!r}")
        if not math.isfinite(value):
            raise GeometryError("las coordenadas no pueden ser NaN ni infinitas")
    if not -180 <= lon <= 180:
        raise GeometryError(f"longitud {lon} fuera del rango [-180, 180]")
    if not -90 <= lat <= 90:
        raise GeometryError(f"latitud {lat} fuera del rango [-90, 90]")
    return float(lon), float(lat)


def _walk(coords: Any, depth: int) -> Iterable[tuple[float, float]]:
    if depth == 1:
        yield _check_position(coords)
        return
    if not isinstance(coords, list | tuple):
        raise GeometryError("'coordinates' no tiene el anidamiento que pide el tipo de geometría")
    for item in coords:
        yield from _walk(item, depth - 1)


def _check_rings(rings: Sequence[Any]) -> None:
    if not rings:
        raise GeometryError("un polígono necesita al menos un anillo exterior")
    for i, ring in enumerate(rings):
        which = "exterior" if i == 0 else f"interior {i}"
        if len(ring) < 4:
            raise GeometryError(f"el anillo {which} tiene menos de 4 posiciones")
        if list(ring[0]) != list(ring[-1]):
            raise GeometryError(
                f"el anillo {which} no está cerrado: la primera y la última posición difieren"
            )


def parse_geometry(
    obj: Any,
    *,
    allowed_types: Iterable[str] = GEOMETRY_TYPES,
    max_vertices: int | None = None,
) -> BaseGeometry:
    """Turn a GeoJSON geometry object into a valid shapely geometry, or raise GeometryError."""
    allowed = tuple(allowed_types)
    if not isinstance(obj, dict):
        raise GeometryError("la geometría debe ser un objeto GeoJSON")
    check_no_crs(obj, "la geometría")
    gtype = obj.get("type")
    if gtype not in allowed:
        raise GeometryError(
            f"tipo de geometría {gtype!r} no permitido; se acepta: {', '.join(allowed)}"
        )
    coords = obj.get("coordinates")
    if coords is None:
        raise GeometryError("falta 'coordinates'")
    count = 0
    for _ in _walk(coords, _DEPTH[gtype]):
        count += 1
        if max_vertices is not None and count > max_vertices:
            raise GeometryError(f"la geometría supera el máximo de {max_vertices} vértices")
    if count == 0:
        raise GeometryError("la geometría no tiene coordenadas")
    if gtype == "Polygon":
        _check_rings(coords)
    elif gtype == "MultiPolygon":
        for polygon in coords:
            _check_rings(polygon)
    elif gtype == "LineString" and len(coords) < 2:
        raise GeometryError("una línea necesita al menos 2 posiciones")
    try:
        geom = shape({"type": gtype, "coordinates": coords})
    except (ValueError, TypeError, IndexError) as exc:  # shapely/GEOS construction errors
        raise GeometryError(f"geometría mal formada: {exc}") from exc
    if geom.is_empty:
        raise GeometryError("la geometría está vacía")
    if not geom.is_valid:
        raise GeometryError(f"geometría no válida: {describe_invalidity(explain_validity(geom))}")
    return geom
