"""Each rule of the Chilean address parser (app/geocoding/parse.py), one by one."""

from __future__ import annotations

import pytest

from app.geocoding.parse import RULES, fold, name_key, parse_address, type_word

LANCO = frozenset({"lanco", "malalhue"})


def parse(text: str):  # noqa: ANN201 (the dataclass)
    return parse_address(text, localities=LANCO)


def test_every_rule_is_documented_and_tested() -> None:
    # the names of RULES are the ones the tests below exercise, one test each at least
    assert set(RULES) == {
        "acentos, mayúsculas",
        "tipo de vía",
        "artículos",
        "número",
        "sin número",
        "esquina",
        "villa / población / sector",
        "km",
        "localidad al final",
        "tipo con errores",
        "departamento",
    }


# --- acentos, mayúsculas ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("AVDA. GERÓNIMO", "avda geronimo"),
        ("Puquiñe", "puquine"),
        ("  Simón   Bolívar ", "simon bolivar"),
        ("Bernardo O'Higgins", "bernardo ohiggins"),
        ("Bernardo O Higgins", "bernardo ohiggins"),
    ],
)
def test_fold_lowers_and_drops_accents(raw: str, folded: str) -> None:
    assert fold(raw) == folded


# --- tipo de vía, artículos -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "street_type"),
    [
        ("Av. Centenario 10", "avenida"),
        ("Avda. Centenario 10", "avenida"),
        ("AVENIDA Centenario 10", "avenida"),
        ("Pje. Los Aromos 10", "pasaje"),
        ("Psje. Los Aromos 10", "pasaje"),
        ("Pasaje Los Aromos 10", "pasaje"),
        ("Calle Yungay 10", "calle"),
        ("Yungay 10", None),
    ],
)
def test_street_types_are_recognised_and_removed_from_the_key(
    raw: str, street_type: str | None
) -> None:
    parsed = parse(raw)
    assert parsed.street_type == street_type
    assert parsed.street in {"centenario", "aromos", "yungay"}


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Pje. Los Aromos", "aromos"),
        ("Las Garzas", "garzas"),
        ("Pedro de Valdivia", "pedro valdivia"),
        ("José de San Martín", "jose san martin"),
        ("El Maitén", "maiten"),
        ("Los", "los"),  # a name that is only an article keeps it
    ],
)
def test_articles_do_not_count(name: str, key: str) -> None:
    assert name_key(name) == key


# --- número, sin número, departamento ---------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "Baquedano 345",
        "Baquedano N° 345",
        "Baquedano Nº345",
        "Baquedano # 345",
        "Baquedano nro. 345",
        "Baquedano núm. 345",
        "BAQUEDANO N°345",
        "Baquedano 345 B",
    ],
)
def test_house_number_markers(raw: str) -> None:
    parsed = parse(raw)
    assert (parsed.kind, parsed.street, parsed.number) == ("number", "baquedano", 345)


def test_thousands_separator_and_numbers_in_street_names() -> None:
    assert parse("Bernardo O'Higgins 1.234").number == 1234
    sept = parse("Calle 18 de Septiembre 450")
    assert (sept.street, sept.number) == ("18 septiembre", 450)
    oriente = parse("1 Oriente")
    assert (oriente.kind, oriente.street, oriente.number) == ("street", "1 oriente", None)


@pytest.mark.parametrize("raw", ["Baquedano s/n", "Baquedano S/N", "Baquedano sin número"])
def test_without_number(raw: str) -> None:
    parsed = parse(raw)
    assert (parsed.kind, parsed.street, parsed.without_number) == ("street", "baquedano", True)


@pytest.mark.parametrize(
    "raw", ["Yungay 345 depto 12", "Yungay 345 dpto. 4", "Yungay 345 block 2 depto 21"]
)
def test_department_after_the_number_is_dropped(raw: str) -> None:
    parsed = parse(raw)
    assert (parsed.street, parsed.number) == ("yungay", 345)


# --- esquina ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "Av. Lanco esq. Baquedano",
        "Av. Lanco esquina Baquedano",
        "Av. Lanco con Baquedano",
        "Av. Lanco y Baquedano",
        "Av. Lanco / Baquedano",
        "AV LANCO ESQ BAQUEDANO",
    ],
)
def test_intersections(raw: str) -> None:
    parsed = parse(raw)
    assert (parsed.kind, parsed.street, parsed.cross_street) == (
        "intersection",
        "lanco",
        "baquedano",
    )


# --- villa / población / sector, km -----------------------------------------------------------


def test_places_alone_and_after_a_street() -> None:
    villa = parse("Villa Esperanza")
    assert (villa.kind, villa.place, villa.place_type) == ("place", "esperanza", "villa")
    pobl = parse("Pobl. El Esfuerzo s/n")
    assert (pobl.kind, pobl.place, pobl.place_type) == ("place", "esfuerzo", "poblacion")
    inside = parse("Psje. Los Cisnes #12, Vla. Los Aromos")
    assert (inside.kind, inside.street, inside.number) == ("number", "cisnes", 12)
    assert (inside.place, inside.place_type) == ("aromos", "villa")
    prefix = parse("Villa Los Aromos Pje 3 123")
    assert (prefix.street, prefix.number, prefix.place) == ("3", 123, "aromos")


@pytest.mark.parametrize(
    ("raw", "km"),
    [
        ("km 3 camino a Malalhue", 3.0),
        ("Camino a Malalhue km 3,5", 3.5),
        ("Cno. a Malalhue Km. 12", 12.0),
        ("KM 7 CAMINO A MALALHUE", 7.0),
    ],
)
def test_kilometre_on_a_road(raw: str, km: float) -> None:
    parsed = parse(raw)
    assert (parsed.kind, parsed.street, parsed.km) == ("km", name_key("Camino a Malalhue"), km)


def test_sector_with_kilometre_is_the_sector() -> None:
    parsed = parse("Sector Purulén km 3")
    assert (parsed.kind, parsed.place, parsed.place_type, parsed.km) == (
        "place",
        "purulen",
        "sector",
        3.0,
    )


# --- localidad al final, tipo con errores -----------------------------------------------------


def test_locality_at_the_end_is_dropped() -> None:
    parsed = parse("Yungay 345, Lanco")
    assert (parsed.street, parsed.number, parsed.place) == ("yungay", 345, None)
    other = parse("Yungay 345, Región de Los Ríos")
    assert (other.street, other.number) == ("yungay", 345)
    assert parse("Yungay, 345").number == 345
    assert parse("Lanco, Villa Esperanza").kind == "place"


@pytest.mark.parametrize(
    ("word", "canonical"),
    [("pasjae", "pasaje"), ("prsaje", "pasaje"), ("cale", "calle"), ("vlila", "villa"),
     ("avenia", "avenida"), ("aromos", "aromos"), ("sol", "sol")],
)  # fmt: skip
def test_type_words_with_typos(word: str, canonical: str) -> None:
    assert type_word(word) == canonical


def test_type_typo_in_an_address() -> None:
    parsed = parse("Pasjae Los Cisnes 35, Vlila Los Aromos")
    assert (parsed.street_type, parsed.street, parsed.place_type, parsed.place) == (
        "pasaje",
        "cisnes",
        "villa",
        "aromos",
    )


def test_empty_and_nonsense() -> None:
    assert parse("").kind == "empty"
    assert parse(" , ,").kind == "empty"
    assert parse("123").kind == "empty"
