"""Reading a context-layer file (GeoJSON, GeoPackage, Shapefile) and checking every feature.

No database here: the whole file is read through pyogrio and checked before anything is
written, and every bad feature is reported at once (index, source id, field, reason), as the
territory loader does. Geometries go through the same RFC 7946 check as every other input
(`app.geo.geojson.parse_geometry`), after being reprojected to WGS 84 when the file
declares another reference system (a GeoPackage in UTM 18S/19S is common in Chile) and
flattened to 2-D (GIS exports often carry a zero height).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from app.errors import FieldProblem
from app.geo.geojson import GEOMETRY_TYPES, GeometryError, parse_geometry

SUPPORTED_SUFFIXES = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
}
MAX_FEATURES_PER_FILE = 200_000
MAX_VERTICES_PER_FEATURE = 100_000
SOURCE_ID_MAX_CHARS = 200  # the width of context_feature.source_id
DEFAULT_ID_FIELD = "id"
_WGS84 = {"EPSG:4326", "OGC:CRS84"}
_INTEGER_TYPES = {"OFTInteger", "OFTInteger64"}


@dataclass(frozen=True)
class ContextItem:
    index: int  # 0-based position in the file
    source_id: str
    geom: BaseGeometry
    properties: dict[str, Any]


class ContextFileError(ValueError):
    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problema(s) en el archivo de capa de contexto")


def _problem(index: int | None, source_id: str | None, field: str, reason: str) -> FieldProblem:
    problem: FieldProblem = {"field": field, "reason": reason}
    if index is not None:
        problem["index"] = index
    if source_id:
        problem["code"] = source_id
    return problem


def _json_value(value: Any, ogr_type: str) -> Any:
    """A value pyogrio read (numpy scalars, NaN for a missing number, dates) as JSON."""
    if value is None:
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if ogr_type in _INTEGER_TYPES and value.is_integer():
            return int(value)  # an integer column with gaps arrives as float
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _reprojector(crs: str | None) -> Any:
    if crs is None or crs.upper() in _WGS84:
        return None
    from pyproj import Transformer

    transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return lambda geom: shapely.transform(geom, transformer.transform, interleaved=False)


def _read(path: Path) -> tuple[dict[str, Any], Any, Any, Any]:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ContextFileError(
            [
                _problem(
                    None,
                    None,
                    "file",
                    f"formato no soportado ({suffix or 'sin extensión'}); se acepta GeoJSON "
                    "(.geojson, .json), GeoPackage (.gpkg) o Shapefile (.shp)",
                )
            ]
        )
    try:
        meta, fids, wkb, fields = pyogrio.raw.read(path, return_fids=True)
    except (DataSourceError, DataLayerError) as exc:
        reason = f"no se pudo leer como {SUPPORTED_SUFFIXES[suffix]}: {exc}"
        raise ContextFileError([_problem(None, None, "file", reason)]) from exc
    if len(wkb) == 0:
        raise ContextFileError([_problem(None, None, "features", "el archivo no trae features")])
    if len(wkb) > MAX_FEATURES_PER_FILE:
        reason = f"el archivo trae {len(wkb)} features; el máximo es {MAX_FEATURES_PER_FILE}"
        raise ContextFileError([_problem(None, None, "features", reason)])
    return meta, fids, wkb, fields


def _geometry(raw: bytes | None, reproject: Any, allowed: tuple[str, ...]) -> BaseGeometry:
    if raw is None:
        raise GeometryError("el feature no tiene geometría")
    geom = shapely.force_2d(shapely.from_wkb(raw))
    if reproject is not None:
        geom = reproject(geom)
    return parse_geometry(
        mapping(geom), allowed_types=allowed, max_vertices=MAX_VERTICES_PER_FEATURE
    )


def read_context_file(
    path: Path, *, id_field: str | None = None, geometry_types: tuple[str, ...] = GEOMETRY_TYPES
) -> list[ContextItem]:
    """Every feature of the file, checked; raise ContextFileError listing every problem.

    Also the reader of the census-block files (`app.territory.blocks`), which accept
    polygons only (`geometry_types`).

    The source id (what makes a reload update instead of duplicate) is the `id_field`
    property; without one, the `id` property when the file has it, else the feature's
    number in the file (fid), which is stable as long as the file is the same.
    """
    meta, fids, wkb, fields = _read(path)
    names = [str(n) for n in meta["fields"]]
    ogr_types = list(meta.get("ogr_types") or [""] * len(names))
    if id_field is not None and id_field not in names:
        reason = f"el archivo no tiene la propiedad {id_field!r}; tiene: {', '.join(names) or '-'}"
        raise ContextFileError([_problem(None, None, "id_field", reason)])
    key = id_field or (DEFAULT_ID_FIELD if DEFAULT_ID_FIELD in names else None)
    reproject = _reprojector(meta.get("crs"))
    problems: list[FieldProblem] = []
    items: list[ContextItem] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(wkb):
        props = {name: _json_value(fields[i][index], ogr_types[i]) for i, name in enumerate(names)}
        raw_id = props.get(key) if key else int(fids[index])
        source_id = "" if raw_id is None else str(raw_id).strip()
        if not source_id:
            problems.append(_problem(index, None, key or "id", "falta el identificador"))
        elif len(source_id) > SOURCE_ID_MAX_CHARS:
            reason = f"el identificador supera {SOURCE_ID_MAX_CHARS} caracteres"
            problems.append(_problem(index, None, key or "id", reason))
            source_id = ""
        elif source_id in seen:
            reason = f"identificador repetido: ya lo usa el feature {seen[source_id]}"
            problems.append(_problem(index, source_id, key or "id", reason))
        else:
            seen[source_id] = index
        try:
            geom = _geometry(raw, reproject, geometry_types)
        except GeometryError as exc:
            problems.append(_problem(index, source_id, "geometry", exc.reason))
            continue
        items.append(ContextItem(index, source_id, geom, props))
    if problems:
        raise ContextFileError(problems)
    return items
