"""One access rule on every surface: the same rows through REST, OGC items, items and tiles.

The matrix is generated from the OGC registry: every collection with row scope, crossed
with every role (both police institutions, two units, planner, admin), over data owned by
different institutions and units. A new scoped collection gets its rows of the matrix
automatically, and fails here until its REST surfaces and rule are written down below.
The expected rule is spelled out independently of app.identity.access, so a surface that
agrees with the others but not with the documented rule still fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import find_tables

from app.complaints.ingest import import_complaints
from app.identity import access
from app.models import AuditEvent, Complaint, Role
from app.ogc.collections import REGISTRY, Collection
from app.settings import TileSettings
from tests.factories.keys import Keys, make_auth_headers, make_key
from tests.factories.risk import make_point, make_report, move
from tests.helpers import assert_problem
from tests.test_ogc_layers import tile_bounds, tile_of

LOW_Z, HIGH_Z = 10, 15  # aggregated below TileSettings().aggregate_below_zoom, and above
ANCHOR = (-72.775, -39.452)  # Lanco
SENSITIVE, ORDINARY = "152", "556"  # femicidio (sensitive category), hurto
UNIT_A, UNIT_B = "Alumbrado público", "Aseo y ornato"


@dataclass(frozen=True)
class Who:
    """A caller of the matrix and the fields the rule depends on."""

    name: str
    role: Role
    institution: str = "municipalidad"
    unit: str | None = None


CALLERS = (
    Who("carabineros", Role.POLICE, "carabineros"),
    Who("pdi", Role.POLICE, "pdi"),
    Who("unidad_a", Role.UNIT, unit=UNIT_A),
    Who("unidad_b", Role.UNIT, unit=UNIT_B),
    Who("planner", Role.PLANNER),
    Who("admin", Role.ADMIN),
)


@dataclass(frozen=True)
class Owned:
    """A row created by the test and who it belongs to."""

    id: str
    institution: str
    unit: str | None = None


def _complaint_rule(who: Who, row: Owned) -> bool:
    if who.role in (Role.ADMIN, Role.PLANNER):
        return True
    return who.role == Role.POLICE and row.institution == who.institution


def _risk_rule(who: Who, row: Owned) -> bool:
    if who.role in (Role.ADMIN, Role.PLANNER):
        return True
    if who.role == Role.UNIT:
        return row.unit == who.unit
    return who.role == Role.POLICE and row.institution == who.institution


@dataclass(frozen=True)
class Surfaces:
    """The REST side of a scoped collection, and the documented rule (docs/seguridad.md)."""

    rest_list: str
    rest_single: str | None  # with {id}; None where REST has no single read
    rule: Callable[[Who, Owned], bool]
    rows: str  # attribute of World holding the rows the test created
    rest_stats: str
    stats_total: Callable[[dict[str, Any]], int]  # the statistics' count of every row


SURFACES: dict[str, Surfaces] = {
    "complaints": Surfaces(
        "/api/v1/complaints",
        None,
        _complaint_rule,
        "complaints",
        "/api/v1/complaints/stats",
        lambda body: int(body["total"]),
    ),
    "risk-factors": Surfaces(
        "/api/v1/risk-factors",
        "/api/v1/risk-factors/{id}",
        _risk_rule,
        "risk_factors",
        "/api/v1/risk-factors/stats",
        lambda body: int(body["overall"]["total"]),
    ),
}
# Rows that belong to an institution or a unit (written here, not taken from the code under
# test): every keyed collection reading them is in the matrix, scoped or not.
OWNED_TABLES = {"complaint", "risk_factor_report"}


def _reads_owned_rows(collection: Collection) -> bool:
    tables = find_tables(collection.source(), include_aliases=True)
    return not collection.is_public and any(getattr(t, "name", "") in OWNED_TABLES for t in tables)


SCOPED = sorted(c.id for c in REGISTRY.values() if _reads_owned_rows(c))
OGC_COMPLAINTS = "/ogc/collections/complaints/items"
SCOPED_POINTS = [c for c in SCOPED if REGISTRY[c].geometry_type == "Point"]


@dataclass
class World:
    complaints: list[Owned]
    risk_factors: list[Owned]
    tile: tuple[int, int, int]


def _spot(i: int) -> tuple[float, float]:
    """Distinct points well inside the z15 tile around ANCHOR."""
    minx, miny, maxx, maxy = tile_bounds(HIGH_Z, *tile_of(*ANCHOR, HIGH_Z))
    return minx + (maxx - minx) * (0.2 + 0.1 * (i % 7)), miny + (maxy - miny) * (
        0.3 + 0.1 * (i // 7)
    )


@pytest.fixture
def world(client: TestClient, db: Session) -> World:
    rows = [
        {
            "external_ref": f"ACC-{i}",
            "source": source,
            "category": category,
            "occurred_at": "2025-05-10T12:00:00",
            "lon": _spot(i)[0],
            "lat": _spot(i)[1],
            "precision": "exact",
            "address": "Pasaje reservado 9",
        }
        for i, (source, category) in enumerate(
            [
                ("carabineros", SENSITIVE),
                ("carabineros", ORDINARY),
                ("pdi", SENSITIVE),
                ("pdi", ORDINARY),
                ("fiscalia", ORDINARY),
            ]
        )
    ]
    import_complaints(db, rows, loaded_by="pruebas acceso")
    db.commit()
    stored = db.execute(
        select(Complaint.id, Complaint.source).where(Complaint.external_ref.like("ACC-%"))
    ).all()
    complaints = [Owned(str(i), str(source)) for i, source in stored]

    keys = Keys(db)  # police = carabineros, pdi, admin, planner, unit A, other_unit B
    risk: list[Owned] = []
    for n, (role, unit) in enumerate(
        [("police", UNIT_A), ("pdi", UNIT_B), ("police", None), ("pdi", None)]
    ):
        report = make_report(client, keys, role=role, geometry=make_point(*_spot(10 + n)))
        if unit is not None:
            assert move(client, keys, report["id"], "validado").status_code == 200
            routed = move(client, keys, report["id"], "derivado", responsible_unit=unit)
            assert routed.status_code == 200, routed.text
        risk.append(Owned(report["id"], "carabineros" if role == "police" else "pdi", unit))
    return World(complaints, risk, (HIGH_Z, *tile_of(*ANCHOR, HIGH_Z)))


def _ids(features: list[dict[str, Any]]) -> set[str]:
    return {str(f["id"]) for f in features}


def _tile(client: TestClient, collection: str, z: int, x: int, y: int, headers: Any) -> Any:
    return client.get(
        f"/ogc/collections/{collection}/tiles/WebMercatorQuad/{z}/{x}/{y}", headers=headers
    )


def _tile_features(response: Any, layer: str) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    decoded = mapbox_vector_tile.decode(response.content)
    return list(decoded.get(layer, {}).get("features", []))


def _visible_everywhere(
    client: TestClient, collection: Collection, headers: dict[str, str], world: World
) -> dict[str, set[str] | None]:
    """The created ids each surface shows this caller (None: the surface refused the call)."""
    surfaces = SURFACES[collection.id]
    created = {row.id for row in getattr(world, surfaces.rows)}
    seen: dict[str, set[str] | None] = {}

    listed = client.get(surfaces.rest_list, params={"limit": 1000}, headers=headers)
    assert listed.status_code in (200, 403), listed.text
    seen["rest list"] = _ids(listed.json()["features"]) & created if listed.is_success else set()
    stats = client.get(surfaces.rest_stats, headers=headers)
    assert stats.status_code == listed.status_code, stats.text
    if stats.is_success:  # the statistics count exactly the rows the list shows
        assert surfaces.stats_total(stats.json()) == len(listed.json()["features"]) < 1000

    items = client.get(
        f"/ogc/collections/{collection.id}/items", params={"limit": 400}, headers=headers
    )
    assert items.status_code in (200, 404), items.text
    seen["ogc items"] = _ids(items.json()["features"]) & created if items.is_success else set()

    for name, template in (
        ("ogc single", f"/ogc/collections/{collection.id}/items/{{id}}"),
        ("rest single", surfaces.rest_single),
    ):
        if template is None:
            continue
        found = set()
        for row_id in created:
            one = client.get(template.format(id=row_id), headers=headers)
            if one.status_code == 200:
                assert str(one.json()["id"]) == row_id
                found.add(row_id)
            else:  # another owner's row does not exist for this caller: 404, never 403
                assert_problem(one, 404)
        seen[name] = found

    z, x, y = world.tile
    drawn = _tile(client, collection.id, z, x, y, headers)
    assert drawn.status_code in (200, 404), drawn.text
    if drawn.status_code == 200:
        features = _tile_features(drawn, collection.id)
        seen["tile"] = {str(f["properties"]["id"]) for f in features} & created
    else:
        seen["tile"] = set()
    return seen


@pytest.mark.parametrize("who", CALLERS, ids=[w.name for w in CALLERS])
@pytest.mark.parametrize("collection_id", SCOPED)
def test_every_surface_shows_the_same_rows(
    client: TestClient, db: Session, world: World, collection_id: str, who: Who
) -> None:
    collection = REGISTRY[collection_id]
    assert collection_id in SURFACES, f"describe the REST surfaces of {collection_id} here"
    surfaces = SURFACES[collection_id]
    headers = make_auth_headers(
        make_key(db, role=who.role, institution=who.institution, unit=who.unit)
    )
    expected = {row.id for row in getattr(world, surfaces.rows) if surfaces.rule(who, row)}
    seen = _visible_everywhere(client, collection, headers, world)
    for surface, ids in seen.items():
        assert ids == expected, f"{collection_id} via {surface} as {who.name}"


@pytest.mark.parametrize("who", CALLERS, ids=[w.name for w in CALLERS])
@pytest.mark.parametrize(
    "collection_id", [c for c in SCOPED if REGISTRY[c].geometry_type == "Point"]
)
def test_aggregated_tiles_count_only_visible_rows(
    client: TestClient, db: Session, world: World, collection_id: str, who: Who
) -> None:
    assert LOW_Z < TileSettings().aggregate_below_zoom <= HIGH_Z
    headers = make_auth_headers(
        make_key(db, role=who.role, institution=who.institution, unit=who.unit)
    )
    x, y = tile_of(*ANCHOR, LOW_Z)
    response = _tile(client, collection_id, LOW_Z, x, y, headers)
    if response.status_code == 404:  # the role does not read the collection at all
        assert not REGISTRY[collection_id].readable_by(who.role)
        return
    counted = sum(f["properties"]["count"] for f in _tile_features(response, collection_id))
    west, south, east, north = tile_bounds(LOW_Z, x, y)
    items = client.get(
        f"/ogc/collections/{collection_id}/items",
        params={"limit": 400, "bbox": f"{west},{south},{east},{north}"},
        headers=headers,
    )
    assert items.status_code == 200
    in_tile = _ids(items.json()["features"])
    assert counted == len(in_tile)
    surfaces = SURFACES[collection_id]
    rows = getattr(world, surfaces.rows)
    created = {row.id for row in rows}
    assert in_tile & created == {row.id for row in rows if surfaces.rule(who, row)}


def test_police_reads_no_other_institution_through_ogc(
    client: TestClient, db: Session, world: World
) -> None:
    """The reported leak: a carabineros key and a PDI complaint, by id, by page and by tile."""
    headers = make_auth_headers(make_key(db, role=Role.POLICE, institution="carabineros"))
    pdi = [row.id for row in world.complaints if row.institution == "pdi"]
    for row_id in pdi:
        assert_problem(
            client.get(f"/ogc/collections/complaints/items/{row_id}", headers=headers),
            404,
            "elemento_no_encontrado",
        )
    page = client.get("/ogc/collections/complaints/items?limit=400", headers=headers).json()
    assert {f["properties"]["source"] for f in page["features"]} == {"carabineros"}
    for params in (  # a filter or an offset cannot widen the scope: it is inside the source
        {"filter": "source='pdi' OR source<>'pdi'"},
        {"filter": "source='pdi'"},
        {"source": "pdi"},
        {"offset": "1", "limit": "2"},
    ):
        found = client.get("/ogc/collections/complaints/items", params=params, headers=headers)
        assert found.status_code == 200, found.text
        sources = {f["properties"]["source"] for f in found.json()["features"]}
        assert sources <= {"carabineros"}, params
    z, x, y = world.tile
    drawn = _tile_features(_tile(client, "complaints", z, x, y, headers), "complaints")
    assert {f["properties"]["source"] for f in drawn} == {"carabineros"}


def test_fields_hidden_from_planners_stay_hidden_on_every_surface(
    client: TestClient, db: Session, world: World
) -> None:
    hidden = set(access.PLANNER_HIDDEN_COMPLAINT_FIELDS)
    planner = make_auth_headers(make_key(db, role=Role.PLANNER))
    rest = client.get("/api/v1/complaints", params={"limit": 1000}, headers=planner).json()
    mine = [f for f in rest["features"] if f["id"] in {r.id for r in world.complaints}]
    assert mine
    assert all(f["properties"].get(name) is None for f in mine for name in hidden)
    ogc = client.get("/ogc/collections/complaints/items?limit=400", headers=planner).json()
    one = client.get(
        f"/ogc/collections/complaints/items/{world.complaints[0].id}", headers=planner
    ).json()
    z, x, y = world.tile
    drawn = _tile_features(_tile(client, "complaints", z, x, y, planner), "complaints")
    for properties in [
        *(f["properties"] for f in ogc["features"]),
        one["properties"],
        *(f["properties"] for f in drawn),
    ]:
        assert not hidden & set(properties), properties
    assert "reservado" not in str(ogc) + str(one)


# --- sensitive reads are audited once per request -----------------------------------------------


def _events(db: Session, after: int) -> list[AuditEvent]:
    return list(
        db.scalars(
            select(AuditEvent)
            .where(AuditEvent.id > after, AuditEvent.action == "complaint.read_sensitive")
            .order_by(AuditEvent.id)
        )
    )


def _last_event(db: Session) -> int:
    return db.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))) or 0


_SENSITIVE_REFS = {"ACC-0", "ACC-2"}  # the femicidios of the world fixture


@pytest.fixture
def sensitive(db: Session, world: World) -> dict[str, set[str]]:
    """Ids of the sensitive complaints of the world, by institution."""
    rows = db.execute(
        select(Complaint.id, Complaint.source).where(
            Complaint.external_ref.in_(_SENSITIVE_REFS), Complaint.category_code == SENSITIVE
        )
    ).all()
    found: dict[str, set[str]] = {}
    for row_id, source in rows:
        found.setdefault(str(source), set()).add(str(row_id))
    assert set(found) == {"carabineros", "pdi"}
    return found


def test_ogc_items_read_of_sensitive_complaints_leaves_one_event(
    client: TestClient, db: Session, world: World, sensitive: dict[str, set[str]]
) -> None:
    headers = make_auth_headers(make_key(db, role=Role.POLICE, institution="carabineros"))
    before = _last_event(db)
    page = client.get("/ogc/collections/complaints/items?limit=400", headers=headers)
    assert page.status_code == 200
    events = _events(db, before)
    assert len(events) == 1
    detail = events[0].detail
    assert detail["count"] == len(sensitive["carabineros"])
    assert set(detail["ids"]) == sensitive["carabineros"]  # its own only: the scope holds
    assert detail["surface"] == "ogc.items"
    assert events[0].actor.startswith("carabineros/vga_")

    before = _last_event(db)
    own = next(iter(sensitive["carabineros"]))
    assert client.get(f"/ogc/collections/complaints/items/{own}", headers=headers).is_success
    (single,) = _events(db, before)
    assert single.object_id == own
    assert single.detail["surface"] == "ogc.item"

    before = _last_event(db)  # a page without sensitive rows leaves nothing
    quiet = client.get(
        "/ogc/collections/complaints/items",
        params={"limit": 400, "filter": f"category='{ORDINARY}'"},
        headers=headers,
    )
    assert quiet.status_code == 200
    assert _events(db, before) == []


def test_rest_and_ogc_record_the_same_event_for_the_same_rows(
    client: TestClient, db: Session, world: World, sensitive: dict[str, set[str]]
) -> None:
    headers = make_auth_headers(make_key(db, role=Role.POLICE, institution="pdi"))
    recorded = {}
    for surface, path in (("api", "/api/v1/complaints"), ("ogc.items", OGC_COMPLAINTS)):
        before = _last_event(db)
        assert client.get(path, params={"limit": 400}, headers=headers).status_code == 200
        (event,) = _events(db, before)
        assert event.detail["surface"] == surface
        recorded[surface] = (event.action, event.object_type, event.detail["count"])
        assert set(event.detail["ids"]) == sensitive["pdi"]
    assert recorded["api"] == recorded["ogc.items"]


def test_streamed_ogc_page_is_audited_before_it_streams(
    client: TestClient, db: Session, world: World, sensitive: dict[str, set[str]]
) -> None:
    headers = make_auth_headers(make_key(db, role=Role.PLANNER))
    before = _last_event(db)
    response = client.get("/ogc/collections/complaints/items?limit=600", headers=headers)
    assert response.status_code == 200
    (event,) = _events(db, before)
    assert set(event.detail["ids"]) >= sensitive["carabineros"] | sensitive["pdi"]


def test_tile_read_of_sensitive_complaints_leaves_one_event(
    client: TestClient, db: Session, world: World, sensitive: dict[str, set[str]]
) -> None:
    headers = make_auth_headers(make_key(db, role=Role.POLICE, institution="pdi"))
    z, x, y = world.tile
    before = _last_event(db)
    assert _tile(client, "complaints", z, x, y, headers).status_code == 200
    (event,) = _events(db, before)
    assert event.detail["count"] == len(sensitive["pdi"])
    assert set(event.detail["ids"]) == sensitive["pdi"]
    assert event.detail["surface"] == "ogc.tile"
    assert event.detail["tile"] == f"{z}/{x}/{y}"

    before = _last_event(db)  # aggregated: one event with the count, no ids
    low_x, low_y = tile_of(*ANCHOR, LOW_Z)
    assert _tile(client, "complaints", LOW_Z, low_x, low_y, headers).status_code == 200
    (aggregated,) = _events(db, before)
    assert aggregated.detail["count"] == len(sensitive["pdi"])
    assert aggregated.detail["aggregated"] is True
    assert aggregated.detail["ids"] == []
