"""A small synthetic town inside Lanco, with a corpus of addresses whose places are known.

No street geometry for Lanco ships with the repository, so the geocoder is built and
measured on this town: a 9 x 9 grid of named streets (100 m blocks, left/right house-number
ranges per block, odd on the left of the digitised direction), three villas / poblaciones
as polygons with their pasajes (one pasaje name repeated in two villas, as happens), a
rural road "Camino a Malalhue" with kilometre addresses, and two rural sectors.

`address_corpus` writes the addresses a municipality receives: abbreviations, N°, s/n,
esquinas, accents dropped, upper case, one-letter typos, ", Lanco" at the end, department
numbers, and a share that cannot be placed (streets the town does not have, numbers out of
range), each with its true point, street segment or place. Street names are real Lanco
names (data/lanco/calles.csv); the layout is invented.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely.geometry import LineString, Point, Polygon

from app.demo.places import LocalProjection

ORIGIN = LocalProjection(-72.7760, -39.4515)  # the middle of Lanco town
BLOCK_M = 100.0
GRID = 9  # streets each way
HOUSE_OFFSET_M = 10.0  # a house's door from the centreline
EAST_WEST = (
    "Avenida Bernardo O'Higgins", "Gabriela Mistral", "18 de Septiembre", "Pedro de Valdivia",
    "Yungay", "Valparaíso", "22 de Mayo", "Unión", "Porvenir",
)  # fmt: skip
NORTH_SOUTH = (
    "Avenida Centenario", "Baquedano", "Francisco Peña", "Felipe Barthou", "Simón Bolívar",
    "José de San Martín", "Vicente Huidobro", "Violeta Parra", "Luis Aguirre Pinto",
)  # fmt: skip
VILLAS = (
    # name, kind, south-west corner (m), pasajes
    ("Villa Los Aromos", "villa", (500.0, -300.0), ("Los Cisnes", "Las Garzas", "Los Laureles")),
    ("Población El Esfuerzo", "poblacion", (-760.0, -300.0),
     ("Los Ulmos", "Los Tineos", "Los Laureles")),
    ("Villa Esperanza", "villa", (-300.0, 500.0), ()),
)  # fmt: skip
ROAD = "Camino a Malalhue"
ROAD_M = ((400.0, 0.0), (4_000.0, -1_500.0), (12_000.0, -6_000.0))
SECTORS = (("Sector Purulón", (-2_000.0, -2_000.0)), ("Sector Lumaco", (6_000.0, -4_500.0)))
UNKNOWN_STREETS = (
    "Los Mañíos", "Río Cautín", "Cipriano Calderara", "Claudio Arrau", "Humberto Parra",
    "Desiderio Corbeaux", "Santa Bernardita", "Emilio Tiggelbeck",
)  # fmt: skip


@dataclass(frozen=True)
class Segment:
    id: str
    street: str
    line: LineString  # metres
    left_from: int
    left_to: int
    right_from: int
    right_to: int


@dataclass
class Town:
    segments: list[Segment] = field(default_factory=list)
    places: list[tuple[str, str, Polygon]] = field(default_factory=list)  # name, kind, metres
    road: LineString = field(default_factory=lambda: LineString(ROAD_M))

    def streets(self) -> dict[str, list[Segment]]:
        found: dict[str, list[Segment]] = {}
        for s in self.segments:
            found.setdefault(s.street, []).append(s)
        return found


def _street(name: str, points: list[tuple[float, float]], first_block: int = 1) -> list[Segment]:
    """A street as one segment per block; block k holds k*100 .. k*100+99."""
    slug = "".join(c for c in _strip_accents(name).lower() if c.isalnum())[:24]
    out = []
    for k, (a, b) in enumerate(zip(points, points[1:], strict=False)):
        base = (first_block + k) * 100
        out.append(
            Segment(f"{slug}-{k}", name, LineString([a, b]), base + 1, base + 99, base, base + 98)
        )
    return out


def build_town() -> Town:
    town = Town()
    half = (GRID - 1) / 2 * BLOCK_M
    ticks = [-half + i * BLOCK_M for i in range(GRID)]
    for y, name in zip(ticks, EAST_WEST, strict=True):
        town.segments += _street(name, [(x, y) for x in ticks])
    for x, name in zip(ticks, NORTH_SOUTH, strict=True):
        town.segments += _street(name, [(x, y) for y in ticks])
    for villa, kind, (x0, y0), pasajes in VILLAS:
        town.places.append((villa, kind, Polygon.from_bounds(x0, y0, x0 + 260, y0 + 260)))
        for i, pasaje in enumerate(pasajes):
            y = y0 + 50 + 80 * i
            # a pasaje numbered 1..40 from its west end
            line = LineString([(x0 + 20, y), (x0 + 240, y)])
            slug = "".join(c for c in _strip_accents(villa + pasaje).lower() if c.isalnum())[:30]
            town.segments.append(Segment(slug, f"Pasaje {pasaje}", line, 1, 39, 2, 40))
    for sector, (cx, cy) in SECTORS:
        town.places.append((sector, "sector", Point(cx, cy).buffer(1_200, quad_segs=4)))
    town.segments.append(Segment("caminomalalhue", ROAD, town.road, 0, 0, 0, 0))
    return town


# --- writing the gazetteer files --------------------------------------------------------------


def _lonlat(geom: Any) -> dict[str, Any]:
    from shapely import transform
    from shapely.geometry import mapping

    return dict(mapping(transform(geom, lambda xy: _stack(*ORIGIN.to_lonlat(xy[:, 0], xy[:, 1])))))


def _stack(x: Any, y: Any) -> Any:
    import numpy as np

    return np.column_stack([x, y])


def street_features(town: Town) -> dict[str, Any]:
    """GeoJSON of the centrelines, with the attribute names `vigia gazetteer load` reads."""
    features = []
    for s in town.segments:
        ranged = s.left_to > 0
        props = {
            "id": s.id,
            "nombre": s.street,
            "izq_desde": s.left_from if ranged else None,
            "izq_hasta": s.left_to if ranged else None,
            "der_desde": s.right_from if ranged else None,
            "der_hasta": s.right_to if ranged else None,
        }
        features.append({"type": "Feature", "properties": props, "geometry": _lonlat(s.line)})
    return {"type": "FeatureCollection", "features": features}


def place_features(town: Town) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"place-{i}", "nombre": name, "tipo": kind},
            "geometry": _lonlat(polygon),
        }
        for i, (name, kind, polygon) in enumerate(town.places)
    ]
    return {"type": "FeatureCollection", "features": features}


# --- the address corpus -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrueAddress:
    text: str
    kind: str  # number, intersection, street, km, place, unplaceable
    lon: float | None
    lat: float | None
    segment: str | None  # the block's segment id (number); a street name (street)
    place: str | None = None


_TYPES = {
    "avenida": ("Avenida ", "Av. ", "Avda. ", "AV ", "avda "),
    "pasaje": ("Pasaje ", "Pje. ", "Psje. ", "PJE ", "pasaje ", ""),
    "calle": ("Calle ", "", "", ""),
}
_PLACE_TYPES = {
    "Villa ": ("Villa ", "Vla. ", "VILLA ", "villa "),
    "Población ": ("Población ", "Pobl. ", "Poblacion ", "POB. "),
    "Sector ": ("Sector ", "SECTOR ", "Sect. ", "sector "),
}
_NUMBER_MARKS = ("", "", "N° ", "Nº", "# ", "nro. ", "N°")
_CROSS = (" esq. ", " esquina ", " con ", " y ", " ESQ ", " / ")


def _strip_accents(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _typo(rng: random.Random, name: str) -> str:
    """One edit in a word of 5+ letters: a swap, a dropped or a replaced letter."""
    words = name.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long_words:
        return name
    i = rng.choice(long_words)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    edit = rng.choice(("swap", "drop", "replace"))
    if edit == "swap":
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    elif edit == "drop":
        w = w[:j] + w[j + 1 :]
    else:
        w = w[:j] + rng.choice("aeiourslnt") + w[j + 1 :]
    words[i] = w
    return " ".join(words)


def _written(rng: random.Random, street: str) -> str:
    """A street name as someone types it: type word varied, accents, case, typos."""
    kind, bare = "calle", street
    for word in ("Avenida ", "Pasaje "):
        if street.startswith(word):
            kind, bare = word.strip().lower(), street[len(word) :]
    text = rng.choice(_TYPES[kind]) + bare
    if rng.random() < 0.5:
        text = _strip_accents(text)
    if rng.random() < 0.25:
        text = _typo(rng, text)
    roll = rng.random()
    if roll < 0.35:
        text = text.upper()
    elif roll < 0.45:
        text = text.lower()
    return text


def _place_written(rng: random.Random, place: str) -> str:
    for word, variants in _PLACE_TYPES.items():
        if place.startswith(word):
            text = rng.choice(variants) + place[len(word) :]
            break
    else:
        text = place
    if rng.random() < 0.5:
        text = _strip_accents(text)
    if rng.random() < 0.2:
        text = _typo(rng, text)
    return text.upper() if rng.random() < 0.3 else text


def _suffix(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.25:
        return text + ", Lanco"
    if roll < 0.30:
        return text + rng.choice((" depto 3", " casa B", " block 2 depto 21"))
    return text


def _house(rng: random.Random, s: Segment) -> tuple[int, float, float]:
    """A house number on the block and its door (metres): along the block, not exactly
    where linear interpolation puts it, and about HOUSE_OFFSET_M to its side."""
    left = rng.random() < 0.5
    lo, hi = (s.left_from, s.left_to) if left else (s.right_from, s.right_to)
    n = rng.randrange(lo, hi + 1, 2)
    fraction = (n - lo) / (hi - lo) if hi != lo else 0.5
    fraction = min(max(fraction + rng.uniform(-0.04, 0.04), 0.0), 1.0)
    p = s.line.interpolate(fraction, normalized=True)
    (x0, y0), (x1, y1) = s.line.coords[0], s.line.coords[-1]
    length = math.hypot(x1 - x0, y1 - y0)
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length  # left normal
    side = 1.0 if left else -1.0
    offset = HOUSE_OFFSET_M + rng.uniform(-3, 3)
    return n, p.x + side * nx * offset, p.y + side * ny * offset


def _along_road(road: LineString, metres: float) -> tuple[float, float]:
    """The point `metres` along the road measured on the ellipsoid, as PostGIS measures a
    geography (the local projection's metres differ by a few per thousand)."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    import numpy as np

    xy = np.asarray(road.coords)
    lons, lats = ORIGIN.to_lonlat(xy[:, 0], xy[:, 1])
    left = metres
    for i in range(len(lons) - 1):
        azimuth, _, length = geod.inv(lons[i], lats[i], lons[i + 1], lats[i + 1])
        if left <= length or i == len(lons) - 2:
            lon, lat, _ = geod.fwd(lons[i], lats[i], azimuth, min(left, length))
            return float(lon), float(lat)
        left -= length
    raise AssertionError("unreachable")


def address_corpus(town: Town, n: int, *, seed: int = 14103) -> list[TrueAddress]:
    rng = random.Random(seed)
    grid = [s for s in town.segments if s.street in EAST_WEST + NORTH_SOUTH]
    villa_segments = [
        (villa, s)
        for villa, _, (x0, y0), _ in VILLAS
        for s in town.segments
        if s.line.within(Polygon.from_bounds(x0, y0, x0 + 260, y0 + 260))
    ]
    out: list[TrueAddress] = []

    def add(text: str, kind: str, x: float | None, y: float | None, seg: str | None,
            place: str | None = None) -> None:  # fmt: skip
        if x is None or y is None:
            out.append(TrueAddress(text, kind, None, None, seg, place))
            return
        lon, lat = ORIGIN.to_lonlat(np.array(x), np.array(y))
        out.append(TrueAddress(text, kind, float(lon), float(lat), seg, place))

    for _ in range(n):
        roll = rng.random()
        if roll < 0.55:
            s = rng.choice(grid)
            number, x, y = _house(rng, s)
            text = f"{_written(rng, s.street)} {rng.choice(_NUMBER_MARKS)}{number}"
            add(_suffix(rng, text), "number", x, y, s.id)
        elif roll < 0.65:
            villa, s = rng.choice(villa_segments)
            number, x, y = _house(rng, s)
            text = f"{_written(rng, s.street)} {rng.choice(_NUMBER_MARKS)}{number}"
            villa_text = _place_written(rng, villa)
            text = f"{text}, {villa_text}"
            add(_suffix(rng, text), "number", x, y, s.id, villa)
        elif roll < 0.77:
            half = (GRID - 1) / 2 * BLOCK_M
            i, j = rng.randrange(GRID), rng.randrange(GRID)
            a, b = EAST_WEST[i], NORTH_SOUTH[j]
            if rng.random() < 0.5:
                a, b = b, a
            text = f"{_written(rng, a)}{rng.choice(_CROSS)}{_written(rng, b)}"
            add(_suffix(rng, text), "intersection", -half + j * BLOCK_M, -half + i * BLOCK_M, None)
        elif roll < 0.82:
            street = rng.choice(EAST_WEST + NORTH_SOUTH)
            text = _written(rng, street) + rng.choice((" s/n", " S/N", " sin número", ""))
            add(_suffix(rng, text), "street", None, None, street)
        elif roll < 0.88:
            km = rng.randrange(1, 12) + rng.choice((0.0, 0.0, 0.5))
            lon, lat = _along_road(town.road, km * 1000)
            kms = f"{km:g}".replace(".", ",")
            text = rng.choice(
                (f"km {kms} camino a Malalhue", f"Camino a Malalhue km {kms}",
                 f"KM {kms} CAMINO A MALALHUE", f"Cno. a Malalhue Km. {kms}")
            )  # fmt: skip
            out.append(TrueAddress(text, "km", lon, lat, ROAD))
        elif roll < 0.92:
            name, _, polygon = rng.choice(town.places)
            p = polygon.representative_point()
            text = _place_written(rng, name) + rng.choice(("", " s/n", ", Lanco"))
            add(text, "place", p.x, p.y, None, name)
        elif roll < 0.96:
            street = rng.choice(UNKNOWN_STREETS)
            text = f"{street} {rng.randrange(1, 900)}"
            add(_suffix(rng, text), "unplaceable", None, None, None)
        else:
            street = rng.choice(EAST_WEST + NORTH_SOUTH)
            text = f"{_written(rng, street)} {rng.randrange(2_000, 9_000)}"
            add(_suffix(rng, text), "unplaceable", None, None, None)
    return out
