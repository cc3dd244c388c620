"""Reading a gazetteer source: a GeoJSON / GeoPackage / Shapefile layer, or an OpenStreetMap
extract (.osm.pbf), as checked street segments, address points and named places.

No database here. Every feature is checked (geometry, required attributes, number ranges)
and every bad one is reported at once; the loader then checks comuna containment in
PostGIS. Attribute names are matched against the aliases below, so a municipal layer
(nombre, izq_desde...) and a US-style one (name, lfromadd...) load alike.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely.geometry import LineString, MultiLineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from app.context.reader import ContextFileError, read_context_file
from app.errors import FieldProblem
from app.geocoding.parse import PLACE_TYPES, fold, name_key

NAME = ("nombre", "name", "nom_calle", "calle", "nombre_via", "via")
STREET = ("calle", "street", "addr:street", "nombre_via", "via")
NUMBER = ("numero", "number", "num", "addr:housenumber", "housenumber", "n")
KIND = ("tipo", "kind", "place", "clase")
RANGES = {
    "left_from": ("izq_desde", "left_from", "l_from", "lfromadd", "izq_ini"),
    "left_to": ("izq_hasta", "left_to", "l_to", "ltoadd", "izq_fin"),
    "right_from": ("der_desde", "right_from", "r_from", "rfromadd", "der_ini"),
    "right_to": ("der_hasta", "right_to", "r_to", "rtoadd", "der_fin"),
}
PLACE_KINDS = frozenset(PLACE_TYPES.values()) | {"villa", "poblacion", "localidad", "sector"}
# OSM place=* values kept, as the kinds the matcher knows
OSM_PLACES = {
    "town": "localidad",
    "village": "localidad",
    "hamlet": "sector",
    "isolated_dwelling": "sector",
    "locality": "sector",
    "neighbourhood": "villa",
    "suburb": "barrio",
    "quarter": "barrio",
}
MAX_NUMBER = 99_999


@dataclass(frozen=True)
class StreetItem:
    index: int
    source_id: str
    name: str
    geom: LineString
    ranges: tuple[int | None, int | None, int | None, int | None]


@dataclass(frozen=True)
class AddressItem:
    index: int
    source_id: str
    street: str
    number: int
    geom: Point


@dataclass(frozen=True)
class PlaceItem:
    index: int
    source_id: str
    name: str
    kind: str
    geom: BaseGeometry


@dataclass
class GazetteerContent:
    source_format: str
    sha256: str
    streets: list[StreetItem] = field(default_factory=list)
    addresses: list[AddressItem] = field(default_factory=list)
    places: list[PlaceItem] = field(default_factory=list)

    def items(self) -> list[StreetItem | AddressItem | PlaceItem]:
        return [*self.streets, *self.addresses, *self.places]


class GazetteerFileError(ValueError):
    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problema(s) en el nomenclátor")


def _problem(index: int | None, source_id: str | None, name: str, reason: str) -> FieldProblem:
    found: FieldProblem = {"field": name, "reason": reason}
    if index is not None:
        found["index"] = index
    if source_id:
        found["code"] = source_id
    return found


def _first(props: dict[str, Any], aliases: tuple[str, ...]) -> tuple[str | None, Any]:
    lowered = {k.lower(): (k, v) for k, v in props.items()}
    for alias in aliases:
        if alias in lowered and lowered[alias][1] not in (None, ""):
            return lowered[alias]
    return None, None


def house_number(value: Any) -> int | None:
    """345, "345", "345-B", "345 A" -> 345; anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() and 0 <= value <= MAX_NUMBER else None
    m = re.match(r"^\s*(\d{1,5})\s*(?:[-/ ]?\s*[A-Za-z])?\s*$", str(value))
    return int(m.group(1)) if m else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _ranges(
    index: int, source_id: str, props: dict[str, Any], problems: list[FieldProblem]
) -> tuple[int | None, int | None, int | None, int | None]:
    values: list[int | None] = []
    given: list[bool] = []
    for name, aliases in RANGES.items():
        key, raw = _first(props, aliases)
        number = None if raw is None else house_number(raw)
        if raw is not None and number is None:
            problems.append(_problem(index, source_id, key or name, "número de casa no válido"))
        values.append(number)
        given.append(raw is not None)
    for side, (a, b) in (("izquierdo", given[:2]), ("derecho", given[2:])):
        if a != b:
            reason = f"el rango {side} necesita desde y hasta (o ninguno)"
            problems.append(_problem(index, source_id, "rango", reason))
    return values[0], values[1], values[2], values[3]


def _lines(geom: BaseGeometry) -> list[LineString]:
    if isinstance(geom, LineString):
        return [geom]
    if isinstance(geom, MultiLineString):
        return list(geom.geoms)
    return []


def read_gazetteer_file(path: Path) -> GazetteerContent:
    """A GIS layer: lines are street segments, points with a number are addresses, polygons
    (and points with a place kind) are places. Raises GazetteerFileError."""
    try:
        items = read_context_file(path)
    except ContextFileError as exc:
        raise GazetteerFileError(exc.problems) from exc
    content = GazetteerContent(
        source_format=path.suffix.lower().lstrip("."), sha256=sha256_of(path)
    )
    problems: list[FieldProblem] = []
    for item in items:
        props, geom, i, sid = item.properties, item.geom, item.index, item.source_id
        lines = _lines(geom)
        if lines:
            _, name = _first(props, NAME)
            if not name or not name_key(str(name)):
                problems.append(_problem(i, sid, "nombre", "una calle necesita nombre"))
                continue
            ranges = _ranges(i, sid, props, problems)
            for part, line in enumerate(lines):
                part_id = sid if len(lines) == 1 else f"{sid}#{part}"
                content.streets.append(StreetItem(i, part_id, str(name), line, ranges))
            continue
        _, raw_number = _first(props, NUMBER)
        if isinstance(geom, Point) and raw_number is not None:
            number = house_number(raw_number)
            _, street = _first(props, STREET)
            if number is None:
                problems.append(_problem(i, sid, "numero", "número de casa no válido"))
            elif not street:
                problems.append(_problem(i, sid, "calle", "una dirección necesita calle"))
            else:
                content.addresses.append(AddressItem(i, sid, str(street), number, geom))
            continue
        _, name = _first(props, NAME)
        _, kind = _first(props, KIND)
        kind = PLACE_TYPES.get(fold(str(kind)), fold(str(kind))) if kind else None
        if not name:
            problems.append(_problem(i, sid, "nombre", "un lugar necesita nombre"))
        elif kind not in PLACE_KINDS:
            reason = (
                f"tipo de lugar {kind!r} no reconocido; se acepta: {', '.join(sorted(PLACE_KINDS))}"
            )
            problems.append(_problem(i, sid, "tipo", reason))
        else:
            content.places.append(PlaceItem(i, sid, str(name), str(kind), geom))
    if problems:
        raise GazetteerFileError(problems)
    return content


def read_osm(path: Path) -> GazetteerContent:
    """An OpenStreetMap extract: named highways, addr:* nodes and ways, place=* nodes and
    closed ways. Raises GazetteerFileError."""
    import osmium

    content = GazetteerContent(source_format="osm", sha256=sha256_of(path))
    problems: list[FieldProblem] = []

    class Handler(osmium.SimpleHandler):
        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def node(self, n: Any) -> None:
            tags = {t.k: t.v for t in n.tags}
            if not n.location.valid():
                return
            point = Point(n.location.lon, n.location.lat)
            self._address_or_place(f"n{n.id}", tags, point)

        def way(self, w: Any) -> None:
            tags = {t.k: t.v for t in w.tags}
            try:
                coords = [(nd.lon, nd.lat) for nd in w.nodes]
            except osmium.InvalidLocationError:
                problems.append(_problem(self.count, f"w{w.id}", "geometry", "nodos sin ubicación"))
                return
            self.count += 1
            if len(coords) < 2:
                return
            line = LineString(coords)
            if "highway" in tags and tags.get("name"):
                content.streets.append(
                    StreetItem(self.count, f"w{w.id}", tags["name"], line, (None, None, None, None))
                )
                return
            closed = len(coords) >= 4 and coords[0] == coords[-1]
            shape: BaseGeometry = Polygon(coords) if closed else line
            if closed and not shape.is_valid:
                problems.append(_problem(self.count, f"w{w.id}", "geometry", "polígono inválido"))
                return
            self._address_or_place(f"w{w.id}", tags, shape)

        def _address_or_place(self, sid: str, tags: dict[str, str], geom: BaseGeometry) -> None:
            self.count += 1
            if "addr:housenumber" in tags and "addr:street" in tags:
                number = house_number(tags["addr:housenumber"])
                point = geom if isinstance(geom, Point) else geom.representative_point()
                if number is None:
                    reason = f"addr:housenumber {tags['addr:housenumber']!r} no es un número"
                    problems.append(_problem(self.count, sid, "addr:housenumber", reason))
                else:
                    content.addresses.append(
                        AddressItem(self.count, sid, tags["addr:street"], number, point)
                    )
            elif tags.get("place") in OSM_PLACES and tags.get("name"):
                content.places.append(
                    PlaceItem(self.count, sid, tags["name"], OSM_PLACES[tags["place"]], geom)
                )

    try:
        Handler().apply_file(str(path), locations=True)
    except (RuntimeError, ValueError, OSError) as exc:  # libosmium reports a bad file so
        reason = f"no se pudo leer como extracto OSM (.osm.pbf): {exc}"
        raise GazetteerFileError([_problem(None, None, "file", reason)]) from exc
    if not content.items() and not problems:
        problems.append(
            _problem(
                None,
                None,
                "features",
                "el extracto no trae calles con nombre, direcciones ni lugares",
            )
        )
    if problems:
        raise GazetteerFileError(problems)
    return content


def read_gazetteer(path: Path) -> GazetteerContent:
    name = path.name.lower()
    if name.endswith((".osm.pbf", ".pbf", ".osm")):
        return read_osm(path)
    return read_gazetteer_file(path)
