"""Chilean address strings as structured parts: street, number, cross street, place, km.

Pure (no database): the same rules build the gazetteer's name keys at load time and the
keys of every address at geocoding time, so both sides of a trigram comparison are
normalised alike. What each rule does, with an example, is listed in `RULES` and tested
one by one in tests/test_geocoding_parse.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Kind = Literal["number", "street", "intersection", "place", "km", "empty"]

# Street types as written on Chilean lists, to one canonical word (rule "tipo de vía").
STREET_TYPES: dict[str, str] = {
    "avenida": "avenida",
    "av": "avenida",
    "avda": "avenida",
    "aven": "avenida",
    "avd": "avenida",
    "pasaje": "pasaje",
    "pje": "pasaje",
    "psje": "pasaje",
    "pasj": "pasaje",
    "pj": "pasaje",
    "calle": "calle",
    "cll": "calle",
    "camino": "camino",
    "cno": "camino",
    "ruta": "ruta",
    "diagonal": "diagonal",
    "costanera": "costanera",
    "callejon": "callejon",
}
# Named places (rule "villa / población / sector").
PLACE_TYPES: dict[str, str] = {
    "villa": "villa",
    "vla": "villa",
    "vl": "villa",
    "poblacion": "poblacion",
    "pobl": "poblacion",
    "pob": "poblacion",
    "pbl": "poblacion",
    "sector": "sector",
    "sect": "sector",
    "sec": "sector",
    "localidad": "localidad",
    "loteo": "loteo",
    "condominio": "condominio",
    "campamento": "campamento",
    "barrio": "barrio",
}
ARTICLES = frozenset({"el", "la", "los", "las", "del", "de"})
_NUMBER_WORDS = r"(?:n|no|nro|num|numero)"
_UNIT = re.compile(
    r"\s\b(?:depto|dpto|dto|departamento|block|blk|casa|of|oficina|local|piso|torre)\b.*$"
)
_NO_NUMBER = re.compile(r"(?:\bs\s*/\s*n\b|\bsn\b|\bsin\s+numero\b|\bs\s+n\b)")
_CROSS = re.compile(r"\s+(?:esquina\s+con|esquina\s+de|esquina|esq\s+con|esq|con|y|/|&)\s+")
_KM = re.compile(r"\b(?:km|kms|kilometro|kilometros)\s*(\d{1,3}(?:[.,]\d{1,3})?)\b")
_KM_TAIL = re.compile(r"\b(\d{1,3}(?:[.,]\d{1,3})?)\s*(?:km|kms|kilometros?)\b")
_ROAD = re.compile(r"\bcamino\s+(?:a|al|hacia|de)\s+(?P<to>[a-z0-9 ]+?)\s*$")
_PLACE_THEN_STREET = re.compile(r"^(\w+)\s+(.+?)\s+(" + "|".join(STREET_TYPES) + r")\s+(.+)$")
_BARE_NUMBER = re.compile(rf"(?:{_NUMBER_WORDS}\s*)?\d{{1,5}}")
_THOUSANDS = re.compile(r"\b(\d{1,2})\.(\d{3})\b")
_TRAILING_NUMBER_WORD = re.compile(rf"\s+{_NUMBER_WORDS}$")
_TRAILING_NUMBER = re.compile(
    rf"^(?P<name>.*[a-z].*?)\s+(?:{_NUMBER_WORDS}\s*)?(?P<num>\d{{1,5}})(?:\s*[a-z])?$"
)


def _osa(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbouring letters as one edit."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


_TYPE_WORDS = ("avenida", "pasaje", "calle", "camino", "villa", "poblacion", "sector")


@lru_cache(maxsize=8192)  # a list repeats its few words: the edit distance runs once each
def type_word(word: str) -> str:
    """A street or place type word as written, typos included ("pasjae", "cale", "vlila"),
    as its canonical abbreviation table key; other words unchanged (rule "tipo con
    errores"). Only words of four letters or more, one edit (two for long types)."""
    if word in STREET_TYPES or word in PLACE_TYPES or len(word) < 4 or not word.isalpha():
        return word
    for canonical in _TYPE_WORDS:
        allowed = 1 if len(canonical) <= 5 else 2
        if abs(len(word) - len(canonical)) <= allowed and _osa(word, canonical) <= allowed:
            return canonical
    return word


def _fix_first(text: str) -> str:
    words = text.split(" ", 1)
    words[0] = type_word(words[0])
    return " ".join(words)


# Spanish letters without their accents in one table lookup; anything else non-ASCII goes
# through Unicode decomposition (slower, rare).
_ACCENTS = str.maketrans("áéíóúüñàèìòùâêîôûäëïöÁÉÍÓÚÜÑÀÈÌÒÙ", "aeiouunaeiouaeiouaeioAEIOUUNAEIOU")
_NUMBER_MARK = re.compile(r"(?i)\bn\s*[°º.]?\s*(?=[°º])")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_APOSTROPHE = re.compile(r"(?<=[a-z])'(?=[a-z])")
_NOT_KEPT = re.compile(r"[^a-z0-9/&,.]+")
_DOT = re.compile(r"(?<![0-9])\.|\.(?![0-9])")
_O_HIGGINS = re.compile(r"\bo\s+(?=higgins\b)")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case without accents (ñ -> n, as PostgreSQL's unaccent does), punctuation
    as spaces except '/', one space between words (rule "acentos, mayúsculas")."""
    text = _NUMBER_MARK.sub("", text)  # N°, Nº -> one marker
    text = text.replace("°", " n ").replace("º", " n ").replace("#", " n ")
    text = _DECIMAL_COMMA.sub(".", text)  # km 3,5 -> km 3.5
    plain = text.translate(_ACCENTS)
    if not plain.isascii():
        decomposed = unicodedata.normalize("NFKD", plain)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = _APOSTROPHE.sub("", plain.lower())  # O'Higgins -> ohiggins
    plain = _NOT_KEPT.sub(" ", plain)
    plain = _DOT.sub(" ", plain)  # dots, except 3.5 (km)
    plain = _O_HIGGINS.sub("o", plain)  # O Higgins -> ohiggins
    return _SPACES.sub(" ", plain).strip(" ,")


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """The comparable core of a street or place name: folded, without its type word and
    articles (rule "artículos"): "Pje. Los Aromos" and "aromos" give the same key."""
    words = fold(name).replace(",", " ").split()
    if len(words) > 1:
        words[0] = type_word(words[0])
    while words and (words[0] in STREET_TYPES or words[0] in PLACE_TYPES):
        words = words[1:]
    core = [w for w in words if w not in ARTICLES]
    return " ".join(core or words)


@dataclass(frozen=True)
class ParsedAddress:
    """One address string's parts; keys are `name_key` values (None where absent)."""

    raw: str
    kind: Kind
    street: str | None = None
    street_type: str | None = None
    number: int | None = None
    without_number: bool = False
    cross_street: str | None = None
    place: str | None = None
    place_type: str | None = None
    km: float | None = None


def _street_type(words: list[str]) -> str | None:
    return STREET_TYPES.get(words[0]) if words else None


def _split_place(
    parts: list[str], localities: frozenset[str]
) -> tuple[list[str], str | None, str | None, float | None]:
    """Comma parts that name a villa/población/sector leave the street parts; a bare
    locality ("Lanco") is dropped (rule "localidad al final")."""
    kept: list[str] = []
    place = place_type = None
    km: float | None = None
    for index, part in enumerate(parts):
        words = part.split()
        if not words:
            continue
        if words[0] in PLACE_TYPES and (index > 0 or len(parts) > 1 or len(words) > 1):
            place_part = _place_or_km(part, part)
            place, place_type, km = place_part.place, place_part.place_type, place_part.km
            continue
        if len(parts) > 1 and name_key(part) in localities:
            continue
        kept.append(part)
    return kept, place, place_type, km


def parse_address(raw: str, *, localities: frozenset[str] = frozenset()) -> ParsedAddress:
    """Parse one address as Chilean lists write it. `localities` are name keys of the
    comuna's towns, dropped when they end the address ("..., Lanco")."""
    text = fold(raw)
    text = _UNIT.sub("", text)
    parts = [_fix_first(p.strip()) for p in text.split(",")]
    # "Villa Los Aromos Pje 3 123": a place type first and a street type later
    if len(parts) == 1:
        m = _PLACE_THEN_STREET.match(parts[0])
        if m and m.group(1) in PLACE_TYPES:
            parts = [f"{m.group(3)} {m.group(4)}", f"{m.group(1)} {m.group(2)}"]
    parts, place, place_type, place_km = _split_place(parts, localities)
    # The street is the first part; "Los Aromos, 345" keeps the number that follows, and
    # any other part (a town, a region, a reference) is left out.
    main = parts[0] if parts else ""
    if len(parts) > 1 and _BARE_NUMBER.fullmatch(parts[1]):
        main = f"{parts[0]} {parts[1]}"
    if not main:
        if place:
            return ParsedAddress(raw, "place", place=place, place_type=place_type, km=place_km)
        return ParsedAddress(raw, "empty")
    words = main.split()
    if words[0] in PLACE_TYPES and place is None:
        return _place_or_km(raw, main)
    km = _KM.search(main) or _KM_TAIL.search(main)
    if km:
        value = float(km.group(1).replace(",", "."))
        rest = (main[: km.start()] + " " + main[km.end() :]).strip()
        road = _ROAD.search(rest)
        street = name_key(rest[road.start() :]) if road else (name_key(rest) if rest else None)
        return ParsedAddress(
            raw,
            "km",
            street=street or None,
            street_type="camino",
            km=value,
            place=place,
            place_type=place_type,
        )
    crossing = _CROSS.split(main, maxsplit=1)
    if len(crossing) == 2 and all(re.search(r"[a-z]", side) for side in crossing):
        first, second = (_fix_first(_strip_number(side)) for side in crossing)
        return ParsedAddress(
            raw,
            "intersection",
            street=name_key(first),
            street_type=_street_type(first.split()),
            cross_street=name_key(second),
            place=place,
            place_type=place_type,
        )
    main = _THOUSANDS.sub(r"\1\2", main)  # 1.234 -> 1234
    without = bool(_NO_NUMBER.search(main))
    if without:
        main = _NO_NUMBER.sub(" ", main).strip()
    numbered = _TRAILING_NUMBER.match(main)
    if numbered and not without:
        name = numbered.group("name")
        name = _TRAILING_NUMBER_WORD.sub("", name)
        return ParsedAddress(
            raw,
            "number",
            street=name_key(name),
            street_type=_street_type(name.split()),
            number=int(numbered.group("num")),
            place=place,
            place_type=place_type,
        )
    if not re.search(r"[a-z]", main):
        return ParsedAddress(raw, "place" if place else "empty", place=place, place_type=place_type)
    return ParsedAddress(
        raw,
        "street",
        street=name_key(main),
        street_type=_street_type(main.split()),
        without_number=without,
        place=place,
        place_type=place_type,
    )


def _strip_number(side: str) -> str:
    numbered = _TRAILING_NUMBER.match(side)
    return numbered.group("name") if numbered else side


def _place_or_km(raw: str, main: str) -> ParsedAddress:
    """ "Sector Purulón km 3", "Villa Los Aromos s/n"."""
    kind_word = main.split()[0]
    main = _NO_NUMBER.sub(" ", main)
    km = _KM.search(main) or _KM_TAIL.search(main)
    value = float(km.group(1).replace(",", ".")) if km else None
    name = (main[: km.start()] + " " + main[km.end() :]) if km else main
    return ParsedAddress(
        raw, "place", place=name_key(name), place_type=PLACE_TYPES[kind_word], km=value
    )


RULES: dict[str, str] = {
    "acentos, mayúsculas": "'AVDA. GERÓNIMO' = 'avda geronimo'; ñ como n",
    "tipo de vía": "Av., Avda., Pje., Psje., Pasaje, Calle, Camino: se reconocen y se quitan",
    "artículos": "el, la, los, las, de, del no cuentan: 'Pje. Los Aromos' = 'aromos'",
    "número": "N°, Nº, #, nro., núm. o nada antes del número: 'Baquedano N° 345'",
    "sin número": "s/n, S/N, sin número: la calle sin número",
    "esquina": "esq., esquina, con, y, /: dos calles que se cruzan",
    "villa / población / sector": "Villa, Vla., Población, Pobl., Sector y otros lugares",
    "km": "'km 3 camino a Malalhue', 'Sector Purulón km 3'",
    "localidad al final": "', Lanco' (o cualquier parte que no sea villa/sector) se descarta",
    "tipo con errores": "'Pasjae', 'Cale', 'Vlila' se leen como pasaje, calle, villa",
    "departamento": "depto., block, casa, piso... después del número se descartan",
}
