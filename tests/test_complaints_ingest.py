"""Loading complaints: every validation rule (nothing written), idempotency, assignment."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.complaints.ingest import import_complaints
from app.db import make_engine
from app.errors import InvalidInput
from app.models import Barrio, Complaint, MicroBarrio, Role
from app.settings import (
    DatabaseSettings,
    RiskFactorSettings,
    get_limit_settings,
    get_territory_settings,
)
from tests.conftest import load_json
from tests.factories.complaints import (
    GOOD_ROW,
    HEADER,
    OK_CSV,
    OK_GEOJSON,
    complaint_count,
    make_csv_body,
)
from tests.factories.keys import make_auth_headers, make_key
from tests.helpers import assert_matches_schema, assert_problem

IMPORT = "/api/v1/complaints/import"


@pytest.fixture
def police(db: Session) -> dict[str, str]:
    return make_auth_headers(make_key(db, role=Role.POLICE, institution="carabineros"))


@pytest.fixture
def admin(db: Session) -> dict[str, str]:
    """The fixture files mix institutions: only an admin may load them all at once."""
    return make_auth_headers(make_key(db, role=Role.ADMIN, institution="municipalidad"))


def post_csv(
    client: TestClient, headers: dict[str, str], body: bytes | Iterator[bytes], **params: str
) -> Any:
    return client.post(
        IMPORT, content=body, headers={**headers, "Content-Type": "text/csv"}, params=params
    )


def assignment(db: Session, external_ref: str) -> tuple[str, str | None, str | None]:
    row = db.execute(
        select(Complaint.comuna_code, Barrio.code, MicroBarrio.code)
        .outerjoin(Barrio, Barrio.id == Complaint.barrio_id)
        .outerjoin(MicroBarrio, MicroBarrio.id == Complaint.micro_barrio_id)
        .where(Complaint.external_ref == external_ref)
    ).one()
    return row[0], row[1], row[2]


# --- good files ----------------------------------------------------------------------------


def test_csv_import_assigns_comuna_barrio_and_micro_barrio(
    client: TestClient, db: Session, admin: dict[str, str], openapi: dict[str, Any]
) -> None:
    before = complaint_count(db)
    response = post_csv(client, admin, OK_CSV.read_bytes())
    assert response.status_code == 200, response.text
    assert_matches_schema(openapi, IMPORT, "post", response)
    assert response.json() == {
        "rows": 6,
        "inserted": 6,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "geocoded": 0,
        "unplaced": 0,
        "errors": [],
        "errors_omitted": 0,
    }
    assert complaint_count(db) == before + 6
    assert assignment(db, "CAR-1") == ("14103", "B01001", "B01001-03")
    assert assignment(db, "PDI-1") == ("14103", "B03001", "B03001-05")
    stored = db.scalars(select(Complaint).where(Complaint.external_ref == "CAR-1")).one()
    assert stored.address == "Calle Ejemplo 123, Lanco"
    assert stored.taxonomy_version == "cead-2024"
    assert stored.loaded_by.startswith("municipalidad/vga_")


def test_rural_remainder_has_a_barrio_but_no_micro_barrio(db: Session) -> None:
    import_complaints(db, OK_CSV, loaded_by="cli:prueba")
    assert assignment(db, "CAR-4") == ("14103", "BRUR", None)


def test_time_without_offset_is_read_as_america_santiago(db: Session) -> None:
    import_complaints(db, OK_CSV, loaded_by="cli:prueba")
    utc = dict(
        db.execute(
            text(
                "SELECT external_ref, to_char(occurred_at AT TIME ZONE 'UTC', "
                "'YYYY-MM-DD HH24:MI') FROM complaint WHERE external_ref IN ('CAR-1', 'CAR-2')"
            )
        ).all()
    )
    # May 2025 is winter time in Chile (UTC-4)
    assert utc == {"CAR-1": "2025-05-10 14:00", "CAR-2": "2025-06-01 02:30"}


def test_geojson_import(client: TestClient, db: Session, admin: dict[str, str]) -> None:
    before = complaint_count(db)
    response = client.post(
        IMPORT,
        content=OK_GEOJSON.read_bytes(),
        headers={**admin, "Content-Type": "application/geo+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == 3
    assert complaint_count(db) == before + 3
    assert assignment(db, "FIS-3") == ("14103", "BRUR", None)


def test_multipart_upload(client: TestClient, db: Session, admin: dict[str, str]) -> None:
    response = client.post(
        IMPORT,
        files={"file": ("denuncias.geojson", OK_GEOJSON.read_bytes(), "application/geo+json")},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == 3


def test_reimport_never_duplicates_and_updates_changed_rows(db: Session) -> None:
    first = import_complaints(db, OK_CSV, loaded_by="cli:prueba")
    count = complaint_count(db)
    again = import_complaints(db, OK_CSV, loaded_by="cli:otra")
    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (6, 0, 0, 6)
    assert complaint_count(db) == count
    changed = OK_CSV.read_text().replace("CAR-3,carabineros,351", "CAR-3,carabineros,353")
    third = import_complaints(db, io.BytesIO(changed.encode()), fmt="csv", loaded_by="cli:x")
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 5)
    assert complaint_count(db) == count
    category = db.scalar(select(Complaint.category_code).where(Complaint.external_ref == "CAR-3"))
    assert category == "353"


def test_address_is_stored_as_written(db: Session) -> None:
    # the staged rows travel to COPY as CSV text: quotes, commas, backslashes, line breaks
    address = 'Pasaje "O\'Higgins" 12\\B, depto. 3\nLanco'
    quoted = '"' + address.replace('"', '""') + '"'
    body = make_csv_body(GOOD_ROW.removesuffix(",") + "," + quoted)
    import_complaints(db, io.BytesIO(body), fmt="csv", loaded_by="cli:prueba")
    stored = db.scalar(select(Complaint.address).where(Complaint.external_ref == "X-1"))
    assert stored == address


def test_same_ref_from_another_source_is_another_complaint(db: Session) -> None:
    body = make_csv_body(GOOD_ROW, GOOD_ROW.replace("carabineros", "pdi"))
    report = import_complaints(db, io.BytesIO(body), fmt="csv", loaded_by="cli:prueba")
    assert report.inserted == 2


def test_shared_boundary_goes_to_the_lowest_code(db: Session) -> None:
    lon, lat = db.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointN(ST_GeometryN(ST_LineMerge("
            "ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)), 1), 2) AS p "
            "FROM barrio a, barrio b WHERE a.code = 'B01001' AND b.code = 'B01002') s"
        )
    ).one()
    row = f"EDGE-1,carabineros,556,2025-06-01T21:30:00,{lon},{lat},exact,"
    import_complaints(db, io.BytesIO(make_csv_body(row)), fmt="csv", loaded_by="cli:prueba")
    comuna, barrio, micro = assignment(db, "EDGE-1")
    assert barrio == "B01001"
    assert micro is not None
    assert micro.startswith("B01001-")


def test_shared_micro_barrio_boundary_goes_to_the_lowest_code(db: Session) -> None:
    lon, lat, low = db.execute(
        text(
            "SELECT ST_X(p), ST_Y(p), lo FROM (SELECT ST_PointN(ST_GeometryN(ST_LineMerge("
            "ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)), 1), 2) AS p, "
            "a.code AS lo FROM micro_barrio a JOIN micro_barrio b ON a.barrio_id = b.barrio_id "
            "AND a.code < b.code AND ST_Length(ST_CollectionExtract("
            "ST_Intersection(a.geom, b.geom), 2)) > 0 ORDER BY a.code, b.code LIMIT 1) s"
        )
    ).one()
    row = f"EDGE-2,carabineros,556,2025-06-01T21:30:00,{lon},{lat},exact,"
    import_complaints(db, io.BytesIO(make_csv_body(row)), fmt="csv", loaded_by="cli:prueba")
    assert assignment(db, "EDGE-2")[2] == low


def _comuna_west_vertex(db: Session) -> tuple[float, float]:
    lon, lat = db.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_DumpPoints(geom)).geom AS p "
            "FROM comuna WHERE code = '14103') s ORDER BY ST_X(p) LIMIT 1"
        )
    ).one()
    return lon, lat


@pytest.mark.parametrize(("metres", "accepted"), [(30, True), (120, False)])
def test_comuna_tolerance_of_50_m(db: Session, metres: int, accepted: bool) -> None:
    lon, lat = _comuna_west_vertex(db)
    outside = lon - metres / 85_900  # metres per degree of longitude at 39.5° S
    row = f"EDGE-3,carabineros,556,2025-06-01T21:30:00,{outside},{lat},exact,"
    before = complaint_count(db)
    if accepted:
        import_complaints(db, io.BytesIO(make_csv_body(row)), fmt="csv", loaded_by="cli:prueba")
        comuna, barrio, _micro = assignment(db, "EDGE-3")
        assert (comuna, barrio) == ("14103", "BRUR")
    else:
        with pytest.raises(InvalidInput) as info:
            import_complaints(db, io.BytesIO(make_csv_body(row)), fmt="csv", loaded_by="cli:prueba")
        assert "fuera de todas las comunas" in info.value.errors[0]["reason"]
        assert complaint_count(db) == before


@pytest.mark.parametrize(
    "variable", ["VIGIA_TERRITORY_COMUNA_TOLERANCE_M", "VIGIA_RISK_COMUNA_TOLERANCE_M"]
)
def test_comuna_tolerance_is_the_one_territory_setting(
    db: Session, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # the import and the risk factors read the same setting (it was a constant here)
    monkeypatch.setenv(variable, "200")
    get_territory_settings.cache_clear()
    try:
        assert "comuna_tolerance_m" not in RiskFactorSettings.model_fields
        lon, lat = _comuna_west_vertex(db)
        row = f"EDGE-4,carabineros,556,2025-06-01T21:30:00,{lon - 120 / 85_900},{lat},exact,"
        import_complaints(db, io.BytesIO(make_csv_body(row)), fmt="csv", loaded_by="cli:prueba")
        assert assignment(db, "EDGE-4")[0] == "14103"
    finally:
        get_territory_settings.cache_clear()


# --- every validation rule: a 422 naming row and field, and nothing written ------------------

BAD_ROWS = [
    ("X-2,carabineros,556,2025-06-01T21:30:00,-70.65,-33.45,exact,", "lon,lat", "fuera"),
    ("X-2,carabineros,556,2025-06-01T21:30:00,-39.452,-72.775,exact,", "lon,lat", "invertidas"),
    ("X-2,carabineros,556,2025-06-01T21:30:00,-200,-39.45,exact,", "lon", "rango"),
    ("X-2,carabineros,556,2025-06-01T21:30:00,-72.77,-95,exact,", "lat", "rango"),
    ("X-2,carabineros,556,2025-06-01T21:30:00,NaN,-39.45,exact,", "lon", "NaN"),
    ("X-2,carabineros,556,2025-06-01T21:30:00,-72.77,Infinity,exact,", "lat", "infinito"),
    ("X-2,carabineros,999,2025-06-01T21:30:00,-72.775,-39.452,exact,", "category", "desconocida"),
    ("X-2,carabineros,556,2999-01-01T00:00:00,-72.775,-39.452,exact,", "occurred_at", "futuro"),
    ("X-2,carabineros,556,ayer,-72.775,-39.452,exact,", "occurred_at", "ISO 8601"),
    ("X-2,carabineros,556,2025-06-01T21:30:00,abc,-39.452,exact,", "lon", "número"),
    ("X-2,bomberos,556,2025-06-01T21:30:00,-72.775,-39.452,exact,", "source", "carabineros"),
    ("X-2,carabineros,556,2025-06-01T21:30:00,-72.775,-39.452,cerca,", "precision", "exact"),
    (",carabineros,556,2025-06-01T21:30:00,-72.775,-39.452,exact,", "external_ref", "obligatorio"),
    ("X-1,carabineros,556,2025-06-02T21:30:00,-72.775,-39.452,exact,", "external_ref", "fila 1"),
    ("X-2,carabineros,556,2025-06-01T21:30:00,-72.775,-39.452", "fila", "valores"),
]


@pytest.mark.parametrize(("row", "field", "reason"), BAD_ROWS)
def test_each_bad_row_rejects_the_whole_file(
    client: TestClient,
    db: Session,
    police: dict[str, str],
    openapi: dict[str, Any],
    row: str,
    field: str,
    reason: str,
) -> None:
    before = complaint_count(db)
    response = post_csv(client, police, make_csv_body(GOOD_ROW, row))
    body = assert_problem(response, 422, "importacion_rechazada")
    assert_matches_schema(openapi, IMPORT, "post", response)
    assert body["rows"] == 2
    assert body["rejected"] == 1
    assert {(e["row"], e["field"]) for e in body["errors"]} >= {(2, field)}
    assert any(reason in e["reason"] for e in body["errors"]), body["errors"]
    assert complaint_count(db) == before, "a rejected file must write nothing"


def test_every_bad_row_is_listed(client: TestClient, db: Session, police: dict[str, str]) -> None:
    before = complaint_count(db)
    rows = [GOOD_ROW] + [r for r, _, _ in BAD_ROWS[:6]]
    body = assert_problem(post_csv(client, police, make_csv_body(*rows)), 422)
    assert sorted({e["row"] for e in body["errors"]}) == [2, 3, 4, 5, 6, 7]
    assert complaint_count(db) == before


def test_skip_invalid_imports_the_good_rows_and_reports_the_bad(
    client: TestClient, db: Session, police: dict[str, str]
) -> None:
    before = complaint_count(db)
    rows = [GOOD_ROW, BAD_ROWS[1][0], GOOD_ROW.replace("X-1", "X-3")]
    response = post_csv(client, police, make_csv_body(*rows), mode="skip-invalid")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["inserted"], body["rejected"]) == (2, 1)
    assert body["errors"][0]["row"] == 2
    assert "invertidas" in body["errors"][0]["reason"]
    assert complaint_count(db) == before + 2


# Rows 4, 6, 8, 9 and 10 repeat an earlier (source, external_ref); row 2 does not count as a
# first occurrence (it does not parse), row 5 does (it parses, with an unknown category).
REPEATED_ROWS = [
    "X-1,carabineros,556,2025-06-01T21:30:00,-72.775,-39.452,exact,",
    "X-2,carabineros,556,ayer,-72.775,-39.452,exact,",
    "X-2,carabineros,556,2025-06-02T21:30:00,-72.775,-39.452,exact,",
    "X-1,carabineros,556,2025-06-03T21:30:00,-72.775,-39.452,exact,",
    "X-3,carabineros,999,2025-06-01T21:30:00,-72.775,-39.452,exact,",
    "X-3,carabineros,556,2025-06-01T21:30:00,-72.775,-39.452,exact,",
    "X-1,pdi,556,2025-06-01T21:30:00,-72.775,-39.452,exact,",
    "X-1,carabineros,556,2025-06-04T21:30:00,-72.775,-39.452,exact,",
    "X-1,carabineros,999,2025-06-05T21:30:00,-72.775,-39.452,exact,",
    "X-1,pdi,556,2025-06-01T21:30:00,-72.775,-39.452,exact,",
]
ONLY_CARABINEROS = "su clave solo carga denuncias de: carabineros"


def _repeated(row: int, source: str, first: int) -> tuple[int, str, str]:
    return (
        row,
        "external_ref",
        f"external_ref repetido en el archivo para {source}: ya aparece en la fila {first}",
    )


REPEATED_ERRORS = [
    (
        2,
        "occurred_at",
        "fecha y hora no válida (formato ISO 8601, p. ej. 2025-06-01T21:30:00-04:00)",
    ),
    _repeated(4, "carabineros", 1),
    (5, "category", "categoría desconocida '999' (ver GET /api/v1/categories)"),
    _repeated(6, "carabineros", 5),
    (7, "source", ONLY_CARABINEROS),
    _repeated(8, "carabineros", 1),
    (9, "category", "categoría desconocida '999' (ver GET /api/v1/categories)"),
    _repeated(9, "carabineros", 1),
    _repeated(10, "pdi", 7),
    (10, "source", ONLY_CARABINEROS),
]


def _listed(errors: list[Any]) -> list[tuple[int, str, str]]:
    return [(e["row"], e["field"], e["reason"]) for e in errors]


def test_repeated_external_ref_rejects_the_file_naming_the_first_row(db: Session) -> None:
    before = complaint_count(db)
    with pytest.raises(InvalidInput) as info:
        import_complaints(
            db,
            io.BytesIO(make_csv_body(*REPEATED_ROWS)),
            fmt="csv",
            loaded_by="cli:prueba",
            allowed_sources=frozenset({"carabineros"}),
        )
    assert _listed(info.value.errors) == REPEATED_ERRORS
    assert complaint_count(db) == before


def test_skip_invalid_keeps_the_first_of_repeated_rows(db: Session) -> None:
    before = complaint_count(db)
    report = import_complaints(
        db,
        io.BytesIO(make_csv_body(*REPEATED_ROWS)),
        fmt="csv",
        mode="skip-invalid",
        loaded_by="cli:prueba",
        allowed_sources=frozenset({"carabineros"}),
    )
    assert _listed(report.errors) == REPEATED_ERRORS
    assert (report.rows, report.inserted, report.rejected) == (10, 2, 8)
    assert complaint_count(db) == before + 2
    stored = db.execute(
        text(
            "SELECT external_ref, to_char(occurred_at AT TIME ZONE 'America/Santiago', 'MM-DD') "
            "FROM complaint WHERE external_ref LIKE 'X-_' ORDER BY external_ref"
        )
    ).all()
    assert [tuple(r) for r in stored] == [("X-1", "06-01"), ("X-2", "06-02")]


def test_repeated_feature_is_named_by_its_index(db: Session) -> None:
    document = load_json(OK_GEOJSON)
    document["features"].append(copy.deepcopy(document["features"][0]))
    source = document["features"][0]["properties"]["source"]
    last = len(document["features"])
    with pytest.raises(InvalidInput) as info:
        import_complaints(
            db, io.BytesIO(orjson.dumps(document)), fmt="geojson", loaded_by="cli:prueba"
        )
    assert info.value.errors == [
        {
            "row": last,
            "index": last - 1,
            "field": "external_ref",
            "reason": f"external_ref repetido en el archivo para {source}: ya aparece en la fila 1",
        }
    ]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        (HEADER + ",victima", "victima"),
        ("external_ref,source,category,occurred_at,lon,lat", "precision"),
    ],
)
def test_unknown_or_missing_csv_column(
    client: TestClient, db: Session, police: dict[str, str], header: str, field: str
) -> None:
    before = complaint_count(db)
    body = assert_problem(post_csv(client, police, make_csv_body(GOOD_ROW, header=header)), 422)
    assert [e["field"] for e in body["errors"]] == [field]
    assert complaint_count(db) == before


def _geojson_variant(change: Any) -> bytes:
    document = copy.deepcopy(load_json(OK_GEOJSON))
    change(document["features"][1])
    return orjson.dumps(document)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda f: f["properties"].update(victima="x"), "properties.victima"),
        (lambda f: f["properties"].update(lon=-72.7), "properties.lon"),
        (lambda f: f["geometry"].update(coordinates=[-72.5, -39.54, 10]), "geometry"),
        (lambda f: f.update(geometry={"type": "LineString", "coordinates": []}), "geometry"),
        (lambda f: f["geometry"].update(coordinates=[-39.54, -72.5]), "geometry"),
        (lambda f: f["properties"].pop("category"), "category"),
    ],
)
def test_bad_geojson_feature(
    client: TestClient, db: Session, admin: dict[str, str], change: Any, field: str
) -> None:
    before = complaint_count(db)
    response = client.post(
        IMPORT,
        content=_geojson_variant(change),
        headers={**admin, "Content-Type": "application/geo+json"},
    )
    body = assert_problem(response, 422, "importacion_rechazada")
    assert [(e["row"], e["index"], e["field"]) for e in body["errors"]] == [(2, 1, field)]
    assert complaint_count(db) == before


def test_geojson_with_nan_is_not_json(
    client: TestClient, db: Session, police: dict[str, str]
) -> None:
    before = complaint_count(db)
    raw = OK_GEOJSON.read_text().replace("[-72.50, -39.54]", "[NaN, -39.54]")
    response = client.post(
        IMPORT, content=raw.encode(), headers={**police, "Content-Type": "application/geo+json"}
    )
    assert "JSON" in assert_problem(response, 422)["detail"]
    assert complaint_count(db) == before


def test_unsupported_content_type_and_too_large(
    client: TestClient, db: Session, police: dict[str, str]
) -> None:
    response = client.post(
        IMPORT, content=b"x", headers={**police, "Content-Type": "application/pdf"}
    )
    assert_problem(response, 415)
    before = complaint_count(db)
    declared = client.post(
        IMPORT,
        content=OK_CSV.read_bytes(),
        headers={**police, "Content-Type": "text/csv", "Content-Length": "9" * 9},
    )
    body = assert_problem(declared, 413, "contenido_demasiado_grande")
    assert "100 MB" in body["detail"]
    assert complaint_count(db) == before


@pytest.fixture
def import_limit_1_kb(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """VIGIA_LIMIT_IMPORT_BYTES lowered as an operator would, before the app is built."""
    monkeypatch.setenv("VIGIA_LIMIT_IMPORT_BYTES", "1024")
    get_limit_settings.cache_clear()
    yield
    get_limit_settings.cache_clear()


def test_the_import_limit_is_the_setting(
    import_limit_1_kb: None, client: TestClient, db: Session, admin: dict[str, str]
) -> None:
    before = complaint_count(db)
    rows = OK_CSV.read_bytes()
    assert post_csv(client, admin, rows).status_code == 200  # a file under the limit goes in

    def streamed() -> Iterator[bytes]:  # no Content-Length: cut while it streams in
        yield rows
        for _ in range(8):
            yield b"\n" * (16 * 1024)

    for body in (rows + b"\n" * (80 * 1024), streamed()):
        refused = post_csv(client, admin, body)
        problem = assert_problem(refused, 413, "contenido_demasiado_grande")
        assert "1 KB" in problem["detail"]
    assert complaint_count(db) == before + len(rows.splitlines()) - 1


# --- one complaint -------------------------------------------------------------------------

ONE = {
    "external_ref": "CAR-99",
    "source": "carabineros",
    "category": "40102",
    "occurred_at": "2025-06-01T21:30:00",
    "lon": -72.775,
    "lat": -39.452,
    "precision": "exact",
}


def test_post_one_complaint(
    client: TestClient, db: Session, police: dict[str, str], openapi: dict[str, Any]
) -> None:
    before = complaint_count(db)
    response = client.post("/api/v1/complaints", json=ONE, headers=police)
    assert response.status_code == 201, response.text
    assert_matches_schema(openapi, "/api/v1/complaints", "post", response)
    body = response.json()
    assert body["barrio"]["code"] == "B01001"
    assert body["micro_barrio"]["code"] == "B01001-03"
    assert body["occurred_at"] == "2025-06-02T01:30:00Z"
    again = client.post("/api/v1/complaints", json=ONE, headers=police)
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert complaint_count(db) == before + 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lon": -39.452, "lat": -72.775}, "lon,lat"),
        ({"victima": "x"}, "victima"),
        ({"category": "999"}, "category"),
    ],
)
def test_post_one_bad_complaint(
    client: TestClient, db: Session, police: dict[str, str], change: dict[str, Any], field: str
) -> None:
    before = complaint_count(db)
    response = client.post("/api/v1/complaints", json={**ONE, **change}, headers=police)
    body = assert_problem(response, 422)
    assert field in [e["field"] for e in body["errors"]]
    assert complaint_count(db) == before


def test_post_nan_is_rejected(client: TestClient, db: Session, police: dict[str, str]) -> None:
    before = complaint_count(db)
    raw = orjson.dumps(ONE).replace(b"-72.775", b"NaN")
    response = client.post(
        "/api/v1/complaints", content=raw, headers={**police, "Content-Type": "application/json"}
    )
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["lon"]
    assert complaint_count(db) == before


def test_roles_for_loading(client: TestClient, db: Session) -> None:
    planner = make_auth_headers(make_key(db, role=Role.PLANNER))
    unit = make_auth_headers(make_key(db, role=Role.UNIT, unit="Alumbrado"))
    admin = make_auth_headers(make_key(db, role=Role.ADMIN))
    before = complaint_count(db)
    assert_problem(client.post("/api/v1/complaints", json=ONE), 401)
    assert_problem(client.post("/api/v1/complaints", json=ONE, headers=planner), 403)
    assert_problem(client.post("/api/v1/complaints", json=ONE, headers=unit), 403)
    assert_problem(post_csv(client, planner, OK_CSV.read_bytes()), 403)
    assert_problem(post_csv(client, {}, OK_CSV.read_bytes()), 401)
    assert complaint_count(db) == before
    assert client.post("/api/v1/complaints", json=ONE, headers=admin).status_code == 201


# --- command line --------------------------------------------------------------------------


def test_cli_import_reports_rows_and_exits_1_on_rejection(database_url: str, tmp_path: Any) -> None:
    from sqlalchemy import create_engine
    from typer.testing import CliRunner

    from app.cli import cli
    from app.settings import get_database_settings

    bad = tmp_path / "malo.csv"
    bad.write_bytes(make_csv_body(GOOD_ROW, BAD_ROWS[1][0]))
    runner = CliRunner(env={"VIGIA_DATABASE_URL": database_url, "COLUMNS": "200"})
    get_database_settings.cache_clear()
    engine = create_engine(database_url)
    try:
        rejected = runner.invoke(cli, ["complaints", "import", str(bad)])
        assert rejected.exit_code == 1, rejected.output
        assert "fila 2" in rejected.output
        assert "invertidas" in rejected.output
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM complaint")) == 0
        done = runner.invoke(cli, ["complaints", "import", str(bad), "--mode", "skip-invalid"])
        assert done.exit_code == 0, done.output
        assert "Rechazadas" in done.output
        with engine.connect() as conn:
            loaded_by = conn.scalar(text("SELECT loaded_by FROM complaint"))
        assert loaded_by.startswith("cli:")
    finally:
        with engine.begin() as conn:  # the CLI commits: leave the shared database clean
            conn.execute(text("DELETE FROM complaint"))
        engine.dispose()
        get_database_settings.cache_clear()


@pytest.mark.usefixtures("engine")  # the migrated, Lanco-loaded test database
def test_a_large_import_is_not_cut_by_the_statement_timeout(database_url: str) -> None:
    """Interactive queries stop at VIGIA_STATEMENT_TIMEOUT_MS; a bulk load does not."""
    engine = make_engine(DatabaseSettings(database_url=database_url, statement_timeout_ms=100))
    rows = [
        {
            "external_ref": f"TIMEOUT-{i}",
            "source": "carabineros",
            "category": "556",
            "occurred_at": "2025-06-01T21:30:00",
            "lon": -72.785 + (i % 200) * 0.0001,
            "lat": -39.460 + (i // 200) * 0.0001,
            "precision": "exact",
        }
        for i in range(20_000)
    ]
    try:
        with Session(engine) as session:
            report = import_complaints(session, rows, loaded_by="prueba de tiempo máximo")
            assert report.inserted == 20_000  # its set-based insert alone takes over 100 ms
            assert session.execute(text("SHOW statement_timeout")).scalar() == "100ms"
            with pytest.raises(OperationalError):  # ordinary statements are still bounded
                session.execute(text("SELECT pg_sleep(0.5)"))
            session.rollback()
    finally:
        engine.dispose()
