"""Context layers: loading GeoJSON and GeoPackage files all or nothing, idempotent by source
id, and reading them through the API with the catalog's public flag deciding who sees what."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.context import loader
from app.errors import InvalidInput
from app.models import ContextFeature
from tests.helpers import assert_feature_collection, assert_matches_schema, assert_problem

LANCO = "14103"
INSIDE = [(-72.775, -39.452), (-72.776, -39.453), (-72.774, -39.451)]  # in Lanco
BOW_TIE = [[[-72.78, -39.45], [-72.77, -39.44], [-72.77, -39.45], [-72.78, -39.44]]]
FEATURES = "/api/v1/context-layers/{}/features"


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def fc(*features: tuple[str, dict[str, Any]], **props: Any) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"id": fid, **props}, "geometry": geom}
            for fid, geom in features
        ],
    }


def write(tmp_path: Path, document: dict[str, Any], name: str = "capa.geojson") -> Path:
    path = tmp_path / name
    path.write_bytes(orjson.dumps(document))
    return path


def mixed() -> dict[str, Any]:
    """A point, a line and a polygon inside Lanco."""
    (x0, y0), (x1, y1), _ = INSIDE
    square = [[[x0, y0], [x0 + 0.001, y0], [x0 + 0.001, y0 + 0.001], [x0, y0 + 0.001], [x0, y0]]]
    return fc(
        ("a", point(x0, y0)),
        ("b", {"type": "LineString", "coordinates": [[x0, y0], [x1, y1]]}),
        ("c", {"type": "Polygon", "coordinates": square}),
        nombre="Plaza",
    )


def stored(db: Session, layer_type: str | None = None) -> int:
    stmt = select(func.count()).select_from(ContextFeature)
    if layer_type:
        stmt = stmt.where(ContextFeature.layer_type == layer_type)
    return db.scalar(stmt) or 0


def load(
    db: Session, path: Path, layer_type: str = "plaza", **kwargs: Any
) -> loader.ContextLoadReport:
    id_field = kwargs.pop("id_field", None)
    items = loader.parse_context_file(path, id_field=id_field)
    return loader.load_context(
        db, items, layer_type=layer_type, source_name=kwargs.pop("source", path.stem), **kwargs
    )


def rejected(db: Session, path: Path, layer_type: str = "plaza", **kwargs: Any) -> Any:
    before = stored(db)
    with pytest.raises(InvalidInput) as info:
        load(db, path, layer_type, **kwargs)
    assert stored(db) == before, "a rejected file must write nothing"
    return info.value


# --- loading ---------------------------------------------------------------------------


def test_geojson_with_points_lines_and_polygons_loads(db: Session, tmp_path: Path) -> None:
    report = load(db, write(tmp_path, mixed()))
    assert (report.inserted, report.updated, report.unchanged) == (3, 0, 0)
    assert report.by_comuna == {LANCO: 3}
    rows = db.execute(
        select(
            ContextFeature.source_id,
            ContextFeature.comuna_code,
            func.GeometryType(ContextFeature.geom),
            func.ST_SRID(ContextFeature.geom),
            ContextFeature.properties,
            ContextFeature.synthetic,
        ).order_by(ContextFeature.source_id)
    ).all()
    assert [tuple(r[:4]) for r in rows] == [
        ("a", LANCO, "POINT", 4326),
        ("b", LANCO, "LINESTRING", 4326),
        ("c", LANCO, "POLYGON", 4326),
    ]
    assert rows[0][4] == {"id": "a", "nombre": "Plaza"}
    assert not any(r[5] for r in rows)


def test_reloading_the_same_file_updates_and_never_duplicates(db: Session, tmp_path: Path) -> None:
    path = write(tmp_path, mixed())
    load(db, path)
    again = load(db, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    revised = mixed()
    revised["features"][0]["properties"]["nombre"] = "Plaza de Armas"
    revised["features"][1]["geometry"]["coordinates"][1] = list(INSIDE[2])
    report = load(db, write(tmp_path, revised))
    assert (report.inserted, report.updated, report.unchanged) == (0, 2, 1)
    assert stored(db) == 3
    name = db.scalar(
        select(ContextFeature.properties["nombre"].astext).where(ContextFeature.source_id == "a")
    )
    assert name == "Plaza de Armas"
    shorter = load(db, write(tmp_path, fc(("a", point(*INSIDE[0])), nombre="Plaza de Armas")))
    assert shorter.not_in_file == 2
    assert stored(db) == 3


@pytest.mark.parametrize(("name", "driver"), [("p.gpkg", "GPKG"), ("p.shp", "ESRI Shapefile")])
def test_geopackage_in_utm_is_reprojected_and_keyed_by_its_id_field(
    db: Session, tmp_path: Path, name: str, driver: str
) -> None:
    import geopandas as gpd
    import pyogrio
    from shapely.geometry import Point

    frame = gpd.GeoDataFrame(
        {"codigo": ["P-1", "P-2"], "linea": [3, 7]},
        geometry=[Point(lon, lat) for lon, lat in INSIDE[:2]],
        crs="EPSG:4326",
    ).to_crs("EPSG:32718")  # UTM 18S, as municipal GIS exports often are
    path = tmp_path / name
    pyogrio.write_dataframe(frame, path, driver=driver)
    report = load(db, path, "paradero", id_field="codigo")
    assert report.inserted == 2
    rows = db.execute(
        select(
            ContextFeature.source_id,
            func.ST_X(ContextFeature.geom),
            func.ST_Y(ContextFeature.geom),
            ContextFeature.properties,
        ).order_by(ContextFeature.source_id)
    ).all()
    assert [r[0] for r in rows] == ["P-1", "P-2"]
    for (_, x, y, props), (lon, lat) in zip(rows, INSIDE[:2], strict=True):
        assert x == pytest.approx(lon, abs=1e-7)
        assert y == pytest.approx(lat, abs=1e-7)
        assert isinstance(props["linea"], int)
    assert load(db, path, "paradero", id_field="codigo").unchanged == 2


def test_invalid_geometry_is_named_and_nothing_is_written(db: Session, tmp_path: Path) -> None:
    doc = mixed()
    doc["features"].append(
        {
            "type": "Feature",
            "properties": {"id": "d"},
            "geometry": {"type": "Polygon", "coordinates": [[*BOW_TIE[0], BOW_TIE[0][0]]]},
        }
    )
    doc["features"].append({"type": "Feature", "properties": {"id": "e"}, "geometry": None})
    error = rejected(db, write(tmp_path, doc))
    assert error.instance_code == loader.INVALID_FILE
    found = {(e["index"], e["field"]) for e in error.errors}
    assert found == {(3, "geometry"), (4, "geometry")}
    assert "se cruza a sí mismo" in error.errors[0]["reason"]


def test_unknown_type_is_rejected(db: Session, tmp_path: Path) -> None:
    error = rejected(db, write(tmp_path, mixed()), "discoteca_clandestina")
    assert error.errors[0]["field"] == "type"
    assert "paradero" in error.errors[0]["reason"]  # the accepted types are listed


def test_feature_outside_every_comuna_is_rejected(db: Session, tmp_path: Path) -> None:
    doc = mixed()
    doc["features"].append(
        {"type": "Feature", "properties": {"id": "stgo"}, "geometry": point(-70.65, -33.44)}
    )
    error = rejected(db, write(tmp_path, doc))
    assert error.errors == [
        {
            "field": "geometry",
            "reason": "queda fuera de todas las comunas cargadas",
            "index": 3,
            "code": "stgo",
        }
    ]
    assert rejected(db, write(tmp_path, mixed()), comuna="99999").errors[0]["field"] == "comuna"


@pytest.mark.parametrize(
    ("name", "content", "field", "words"),
    [
        ("vacia.geojson", b'{"type": "FeatureCollection", "features": []}', "features", "no trae"),
        ("capa.csv", b"id,lon,lat\n1,-72.77,-39.45\n", "file", "formato no soportado"),
        ("rota.geojson", b"", "file", "no se pudo leer"),
    ],
)
def test_empty_broken_or_unsupported_file_is_rejected(
    db: Session, tmp_path: Path, name: str, content: bytes, field: str, words: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    error = rejected(db, path)
    assert error.errors[0]["field"] == field
    assert words in error.errors[0]["reason"]


def test_repeated_or_missing_ids_are_rejected(db: Session, tmp_path: Path) -> None:
    doc = fc(("a", point(*INSIDE[0])), ("a", point(*INSIDE[1])), ("b", point(*INSIDE[2])))
    doc["features"][2]["properties"]["codigo"] = None
    error = rejected(db, write(tmp_path, doc))
    assert error.errors[0]["index"] == 1
    assert "repetido" in error.errors[0]["reason"]
    error = rejected(db, write(tmp_path, doc), id_field="codigo")
    assert {e["index"] for e in error.errors} == {0, 1, 2}
    assert rejected(db, write(tmp_path, doc), id_field="nada").errors[0]["field"] == "id_field"


def test_cli_loads_and_reports_errors_in_spanish(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    from app.settings import get_database_settings

    runner = CliRunner(env={"VIGIA_DATABASE_URL": database_url, "COLUMNS": "200"})
    bad = mixed()
    bad["features"][0]["geometry"] = point(-70.65, -33.44)
    path = write(tmp_path, mixed(), "cli_paraderos.geojson")
    get_database_settings.cache_clear()  # the command must reach the test database
    try:
        result = runner.invoke(
            cli, ["context", "load", str(write(tmp_path, bad)), "--type", "paradero"]
        )
        assert result.exit_code == 1, result.output
        assert "[feature 0, a] geometry: queda fuera de todas las comunas cargadas" in (
            result.output
        )
        result = runner.invoke(cli, ["context", "load", str(path), "--type", "x"])
        assert result.exit_code == 1
        assert "tipo de capa desconocido 'x'" in result.output
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(ContextFeature)) == 0
        result = runner.invoke(
            cli, ["context", "load", str(path), "--type", "paradero", "--comuna", LANCO]
        )
        assert result.exit_code == 0, result.output
        assert "3 elementos (14103: 3); 3 nuevos, 0 actualizados, 0 sin cambios" in result.output
    finally:
        get_database_settings.cache_clear()
        with engine.begin() as conn:
            conn.execute(delete(ContextFeature).where(ContextFeature.source_name == path.stem))


# --- reading ---------------------------------------------------------------------------


@pytest.fixture
def layers(db: Session, tmp_path: Path) -> None:
    load(db, write(tmp_path, mixed()))
    load(
        db,
        write(tmp_path, fc(("x1", point(*INSIDE[2]))), "abandonados.geojson"),
        "inmueble_abandonado",
        synthetic=True,
    )


def test_list_counts_by_comuna_and_matches_the_schema(
    client: TestClient, openapi: dict[str, Any], keys: Any, layers: None
) -> None:
    response = client.get("/api/v1/context-layers", headers=keys.h("planner"))
    assert response.status_code == 200
    assert_matches_schema(openapi, "/api/v1/context-layers", "get", response)
    by_code = {layer["code"]: layer for layer in response.json()["layers"]}
    assert by_code["plaza"]["comunas"] == [{"comuna": LANCO, "features": 3, "synthetic": 0}]
    assert by_code["inmueble_abandonado"]["comunas"] == [
        {"comuna": LANCO, "features": 1, "synthetic": 1}
    ]
    assert by_code["paradero"] | {"features": 0, "comunas": []} == by_code["paradero"]
    one = client.get("/api/v1/context-layers?type=plaza&comuna=14103", headers=keys.h("unit"))
    assert [layer["code"] for layer in one.json()["layers"]] == ["plaza"]
    elsewhere = client.get("/api/v1/context-layers?type=plaza&comuna=13101").json()
    assert elsewhere["layers"][0]["features"] == 0
    problem = assert_problem(client.get("/api/v1/context-layers?type=nope"), 422)
    assert problem["errors"][0]["field"] == "type"


def test_features_are_rfc7946_geojson_with_bbox_and_limit(
    client: TestClient, openapi: dict[str, Any], layers: None
) -> None:
    response = client.get(FEATURES.format("plaza"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert_feature_collection(body)
    assert_matches_schema(openapi, "/api/v1/context-layers/{type}/features", "get", response)
    assert [f["properties"]["source_id"] for f in body["features"]] == ["a", "b", "c"]
    assert body["features"][0]["properties"]["attributes"] == {"id": "a", "nombre": "Plaza"}
    assert {f["geometry"]["type"] for f in body["features"]} == {"Point", "LineString", "Polygon"}
    (x0, y0), (x1, y1), _ = INSIDE
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2  # the middle of the line, away from the rest
    around_line = f"{mx - 1e-4},{my - 1e-4},{mx + 1e-4},{my + 1e-4}"
    in_box = client.get(FEATURES.format("plaza"), params={"bbox": around_line}).json()
    assert [f["properties"]["source_id"] for f in in_box["features"]] == ["b"]
    first = client.get(FEATURES.format("plaza"), params={"limit": 1}).json()
    assert len(first["features"]) == 1
    assert_problem(client.get(FEATURES.format("plaza"), params={"bbox": "1,2,3"}), 422)
    assert_problem(client.get(FEATURES.format("plaza"), params={"limit": 0}), 422)
    assert_problem(client.get(FEATURES.format("nope")), 404, "capa_de_contexto_no_encontrada")


def test_unkeyed_callers_see_only_public_types(client: TestClient, keys: Any, layers: None) -> None:
    public = {layer["code"] for layer in client.get("/api/v1/context-layers").json()["layers"]}
    assert "plaza" in public
    assert "paradero" in public
    assert "inmueble_abandonado" not in public
    assert "punto_venta_drogas" not in public
    hidden = client.get("/api/v1/context-layers?type=inmueble_abandonado")
    unknown = client.get("/api/v1/context-layers?type=no_existe")
    assert assert_problem(hidden, 422)["code"] == assert_problem(unknown, 422)["code"]
    assert_problem(client.get(FEATURES.format("inmueble_abandonado")), 404)
    keyed = client.get(FEATURES.format("inmueble_abandonado"), headers=keys.h("police"))
    assert keyed.status_code == 200
    assert [f["properties"]["synthetic"] for f in keyed.json()["features"]] == [True]


def test_catalog_file_is_the_seeded_table(db: Session) -> None:
    import csv

    from app.migrations import REPO_ROOT
    from app.models import ContextLayerType

    with (REPO_ROOT / "data" / "context_layer_types.csv").open(encoding="utf-8") as f:
        in_file = {row["code"]: row["public"] == "true" for row in csv.DictReader(f)}
    rows = db.execute(select(ContextLayerType.code, ContextLayerType.public))
    in_db = {row.code: row.public for row in rows}
    assert in_db == in_file


def test_demo_context_layers_load_through_the_loader_marked_synthetic(
    db: Session, tmp_path: Path
) -> None:
    from app.demo import complaints as demo_data
    from app.demo.context import context_collections
    from app.demo.world import simulate
    from app.settings import TerritorySettings
    from app.territory.service import parse_territory
    from tests.conftest import LANCO_FILE, REPO, load_json

    territory = parse_territory(load_json(LANCO_FILE), TerritorySettings())
    barrios = [demo_data.BarrioShape(b.code, b.population or 0, b.geom) for b in territory.barrios]
    sources = demo_data.build_sources(barrios, demo_data.DemoFiles.in_directory(REPO / "data"))
    world = simulate(sources, end=date(2024, 6, 1), years=1, seed=3, risk_factors=0)
    layers = context_collections(world, seed=3)
    assert layers == context_collections(world, seed=3)  # deterministic
    for layer_type, collection in layers.items():
        path = write(tmp_path, collection, f"{layer_type}.geojson")
        load(db, path, layer_type, source="demo", synthetic=True, comuna=LANCO)
    rows = db.execute(
        select(ContextFeature.layer_type, func.count(), func.bool_and(ContextFeature.synthetic))
        .group_by(ContextFeature.layer_type)
        .order_by(ContextFeature.layer_type)
    ).all()
    assert [tuple(r) for r in rows] == [("botilleria", 12, True), ("paradero", 20, True)]
