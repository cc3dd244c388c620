"""Validation of a territory file: one comuna, its barrios and their micro-barrios.

A territory file is a GeoJSON FeatureCollection whose features carry `level`
(comuna | barrio | micro_barrio), `code`, `name`, `parent` (the code of the enclosing
unit) and optionally `population` and `population_estimated`; the comuna may add
`region`, `region_code` and `province`. Everything else in `properties` is kept as
free attributes. `data/SOURCES.md` documents the schema.

Everything here is pure: the whole file is checked before anything is written, and every
bad feature is reported at once (index, code, reason).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shapely import STRtree
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from app.errors import FieldProblem
from app.geo.geojson import GeometryError, check_no_crs, parse_geometry
from app.geo.projection import to_local_metres

LEVELS = ("comuna", "barrio", "micro_barrio")
_PARENT_LEVEL = {"barrio": "comuna", "micro_barrio": "barrio"}
# The CUT (Código Único Territorial) of a comuna: five digits, e.g. 14103. The one
# definition: app/api/params.py builds the `CutCode` type of every API input on it.
CUT_PATTERN = r"^\d{5}$"
_CUT = re.compile(CUT_PATTERN)
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
_KNOWN_PROPERTIES = {
    "level",
    "code",
    "name",
    "parent",
    "population",
    "population_estimated",
    "region",
    "region_code",
    "province",
}
MAX_VERTICES_PER_UNIT = 200_000


@dataclass
class Unit:
    index: int
    level: str
    code: str
    name: str
    parent: str | None
    geom: MultiPolygon
    population: int | None = None
    population_estimated: bool = False
    region: str | None = None
    region_code: str | None = None
    province: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Territory:
    comuna: Unit
    barrios: list[Unit]
    micro_barrios: list[Unit]


class TerritoryFileError(ValueError):
    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problema(s) en el archivo de territorio")


def _problem(index: int | None, code: str | None, field_: str, reason: str) -> FieldProblem:
    problem: FieldProblem = {"field": field_, "reason": reason}
    if index is not None:
        problem["index"] = index
    if code:
        problem["code"] = code
    return problem


def _as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    assert isinstance(geom, MultiPolygon)
    return geom


def _parse_feature(index: int, feature: Any, problems: list[FieldProblem]) -> Unit | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        problems.append(_problem(index, None, "type", "cada elemento debe ser un 'Feature'"))
        return None
    props = feature.get("properties")
    if not isinstance(props, dict):
        problems.append(_problem(index, None, "properties", "faltan las propiedades"))
        return None
    code = props.get("code")
    code_str = code if isinstance(code, str) else None
    before = len(problems)

    def bad(field_: str, reason: str) -> None:
        problems.append(_problem(index, code_str, field_, reason))

    try:
        check_no_crs(feature, "el Feature")
    except GeometryError as exc:
        bad("crs", exc.reason)
    level = props.get("level")
    if level not in LEVELS:
        bad("level", f"nivel {level!r} desconocido; se espera uno de: {', '.join(LEVELS)}")
    if code_str is None or not _CODE.match(code_str):
        bad("code", "código obligatorio: letras, dígitos, '-', '_' o '.', hasta 40 caracteres")
    elif level == "comuna" and not _CUT.match(code_str):
        bad("code", "el código de una comuna es su código CUT de 5 dígitos (p. ej. 14103)")
    name = props.get("name")
    if not isinstance(name, str) or not name.strip():
        bad("name", "nombre obligatorio")
    parent = props.get("parent")
    if level in _PARENT_LEVEL and (not isinstance(parent, str) or not parent):
        bad("parent", f"un {level} necesita el código de su {_PARENT_LEVEL[level]} en 'parent'")
    population = props.get("population")
    if population is not None and (
        isinstance(population, bool) or not isinstance(population, int) or population < 0
    ):
        bad("population", "la población debe ser un entero mayor o igual a 0")
    estimated = props.get("population_estimated", False)
    if not isinstance(estimated, bool):
        bad("population_estimated", "debe ser true o false")
    try:
        geom = parse_geometry(
            feature.get("geometry"),
            allowed_types=("Polygon", "MultiPolygon"),
            max_vertices=MAX_VERTICES_PER_UNIT,
        )
    except GeometryError as exc:
        bad("geometry", exc.reason)
        geom = None
    if len(problems) > before or geom is None:
        return None
    assert isinstance(code_str, str)
    assert isinstance(level, str)
    assert isinstance(name, str)
    return Unit(
        index=index,
        level=level,
        code=code_str,
        name=name.strip(),
        parent=parent if level != "comuna" else None,
        geom=_as_multipolygon(geom),
        population=population,
        population_estimated=estimated,
        region=props.get("region") if level == "comuna" else None,
        region_code=props.get("region_code") if level == "comuna" else None,
        province=props.get("province") if level == "comuna" else None,
        attributes={k: v for k, v in props.items() if k not in _KNOWN_PROPERTIES},
    )


def _check_containment(
    children: list[Unit],
    parents: dict[str, Unit],
    project: Any,
    tolerance_m: float,
    problems: list[FieldProblem],
) -> None:
    for child in children:
        parent = parents.get(child.parent or "")
        if parent is None:
            continue
        outside = project(child.geom).difference(project(parent.geom).buffer(tolerance_m))
        if outside.area > 1.0:
            problems.append(
                _problem(
                    child.index,
                    child.code,
                    "geometry",
                    f"{outside.area:,.0f} m² quedan fuera de su {parent.level} "
                    f"{parent.code} (tolerancia {tolerance_m:g} m)",
                )
            )


def _check_overlaps(
    units: list[Unit], project: Any, tolerance_m2: float, problems: list[FieldProblem]
) -> None:
    projected = [project(u.geom) for u in units]
    tree = STRtree(projected)
    for i, j in zip(*tree.query(projected, predicate="intersects"), strict=True):
        if i >= j:
            continue
        area = projected[i].intersection(projected[j]).area
        if area > tolerance_m2:
            a, b = units[i], units[j]
            problems.append(
                _problem(
                    b.index,
                    b.code,
                    "geometry",
                    f"se superpone {area:,.0f} m² con {a.level} {a.code} (índice {a.index}); "
                    f"tolerancia {tolerance_m2:g} m²",
                )
            )


def validate_territory(
    document: Any, *, containment_tolerance_m: float, overlap_tolerance_m2: float
) -> Territory:
    """Check a whole territory file; raise TerritoryFileError listing every problem."""
    problems: list[FieldProblem] = []
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise TerritoryFileError(
            [_problem(None, None, "type", "el archivo debe ser un FeatureCollection GeoJSON")]
        )
    try:
        check_no_crs(document, "el FeatureCollection")
    except GeometryError as exc:
        problems.append(_problem(None, None, "crs", exc.reason))
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise TerritoryFileError(
            [*problems, _problem(None, None, "features", "el archivo no trae features")]
        )

    units = [u for i, f in enumerate(features) if (u := _parse_feature(i, f, problems))]
    by_level: dict[str, list[Unit]] = {level: [] for level in LEVELS}
    for unit in units:
        by_level[unit.level].append(unit)

    for _level, members in by_level.items():
        seen: dict[str, Unit] = {}
        for unit in members:
            if unit.code in seen:
                problems.append(
                    _problem(
                        unit.index,
                        unit.code,
                        "code",
                        f"código repetido: ya lo usa el feature {seen[unit.code].index}",
                    )
                )
            seen.setdefault(unit.code, unit)

    comunas = by_level["comuna"]
    if len(comunas) != 1:
        problems.append(
            _problem(
                None,
                None,
                "level",
                f"el archivo debe traer exactamente una comuna y trae {len(comunas)}; "
                "cada comuna va en su propio archivo",
            )
        )
    if problems or len(comunas) != 1:
        raise TerritoryFileError(problems)

    comuna = comunas[0]
    barrios = {b.code: b for b in by_level["barrio"]}
    for unit in by_level["barrio"]:
        if unit.parent != comuna.code:
            problems.append(
                _problem(
                    unit.index,
                    unit.code,
                    "parent",
                    f"el barrio apunta a {unit.parent!r}, pero la comuna del archivo es "
                    f"{comuna.code}",
                )
            )
    for unit in by_level["micro_barrio"]:
        if unit.parent not in barrios:
            problems.append(
                _problem(
                    unit.index,
                    unit.code,
                    "parent",
                    f"el barrio {unit.parent!r} no está en el archivo",
                )
            )

    project = to_local_metres(comuna.geom)
    _check_containment(
        by_level["barrio"], {comuna.code: comuna}, project, containment_tolerance_m, problems
    )
    _check_containment(
        by_level["micro_barrio"], barrios, project, containment_tolerance_m, problems
    )
    _check_overlaps(by_level["barrio"], project, overlap_tolerance_m2, problems)
    _check_overlaps(by_level["micro_barrio"], project, overlap_tolerance_m2, problems)
    if problems:
        problems.sort(key=lambda p: p.get("index", -1))
        raise TerritoryFileError(problems)
    return Territory(
        comuna=comuna, barrios=by_level["barrio"], micro_barrios=by_level["micro_barrio"]
    )
