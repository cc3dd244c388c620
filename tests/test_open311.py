"""Open311 GeoReport v2: an existing client files a report and follows it to closure."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories.keys import Keys
from tests.factories.risk import LANCO_TOWN, counts, move

BASE = "/open311/v2"


def test_services_map_the_public_catalog(client: TestClient) -> None:
    services = client.get(f"{BASE}/services.json").json()
    codes = {s["service_code"] for s in services}
    assert "luminaria_apagada" in codes
    assert "punto_consumo_via_publica" not in codes  # drug-related: never public
    lum = next(s for s in services if s["service_code"] == "luminaria_apagada")
    assert lum["group"] == "Iluminación"
    assert lum["type"] == "realtime"
    definition = client.get(f"{BASE}/services/luminaria_apagada.json").json()
    attrs = {a["code"]: a for a in definition["attributes"]}
    assert attrs["severidad"]["datatype"] == "singlevaluelist"
    assert attrs["luminarias_afectadas"]["datatype"] == "number"
    missing = client.get(f"{BASE}/services/ovni.json")
    assert missing.status_code == 404
    assert missing.json()[0]["code"] == 404


def test_submit_and_follow_round_trip(client: TestClient, keys: Keys, db: Session) -> None:
    lon, lat = LANCO_TOWN
    form = {
        "api_key": keys.police,
        "service_code": "luminaria_apagada",
        "lat": str(lat),
        "long": str(lon),
        "description": "Poste 778 apagado, Calle Errázuriz",
        "account_id": "CB-12345",
        "attribute[severidad]": "4",
        "attribute[luminarias_afectadas]": "2",
        "attribute[poste_id]": "P-778",
    }
    created = client.post(f"{BASE}/requests.json", data=form)
    assert created.status_code == 201, created.text
    [receipt] = created.json()
    rid = receipt["service_request_id"]

    # staff see the full report, built by the same submission path
    full = client.get(f"/api/v1/risk-factors/{rid}", headers=keys.h("admin")).json()
    assert full["severity"] == 4
    assert full["attributes"] == {"luminarias_afectadas": 2, "poste_id": "P-778"}
    assert full["officer_id"] == "CB-12345"

    [followed] = client.get(f"{BASE}/requests/{rid}.json").json()
    assert followed["status"] == "open"
    assert followed["status_notes"] == "Reportado."
    assert followed["service_code"] == "luminaria_apagada"
    assert followed["description"] is None
    assert "CB-12345" not in str(followed)
    assert (followed["long"], followed["lat"]) != (lon, lat)
    assert followed["address"].startswith("Lanco Centro-Poniente")

    for step in ("validado", "derivado"):
        move(client, keys, rid, step)
    [routed] = client.get(f"{BASE}/requests/{rid}.json").json()
    assert routed["status"] == "open"
    assert routed["status_notes"] == "Derivado a la unidad responsable: Alumbrado público."
    assert routed["agency_responsible"] == "Alumbrado público"
    move(client, keys, rid, "en_gestion", role="unit")
    move(client, keys, rid, "resuelto", role="unit")
    [closed] = client.get(f"{BASE}/requests/{rid}.json").json()
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "Resuelto."
    listed = client.get(f"{BASE}/requests.json", params={"status": "closed"}).json()
    assert rid in [r["service_request_id"] for r in listed]
    open_ones = client.get(f"{BASE}/requests.json", params={"status": "open"}).json()
    assert rid not in [r["service_request_id"] for r in open_ones]


def test_filing_needs_a_police_or_admin_key(client: TestClient, keys: Keys, db: Session) -> None:
    lon, lat = LANCO_TOWN
    form = {"service_code": "microbasural", "lat": str(lat), "long": str(lon)}
    before = counts(db)
    anonymous = client.post(f"{BASE}/requests.json", data=form)
    assert anonymous.status_code == 403  # GeoReport v2: api_key missing or invalid
    assert anonymous.json()[0]["code"] == 403
    planner = client.post(f"{BASE}/requests.json", data={**form, "api_key": keys.planner})
    assert planner.status_code == 403
    via_header = client.post(f"{BASE}/requests.json", data=form, headers=keys.h("police"))
    assert via_header.status_code == 201
    assert counts(db)["risk_factor_report"] == before["risk_factor_report"] + 1


def test_filing_errors_are_open311_shaped_and_write_nothing(
    client: TestClient, keys: Keys, db: Session
) -> None:
    before = counts(db)
    lon, lat = LANCO_TOWN
    outside = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": keys.police,
            "service_code": "microbasural",
            "lat": "-33.45",
            "long": "-70.65",
        },
    )
    assert outside.status_code == 400
    assert "fuera" in outside.json()[0]["description"]
    swapped = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": keys.police,
            "service_code": "microbasural",
            "lat": str(lon),
            "long": str(lat),
        },
    )
    assert "invertidas" in swapped.json()[0]["description"]
    no_lat = client.post(
        f"{BASE}/requests.json", data={"api_key": keys.police, "service_code": "microbasural"}
    )
    assert no_lat.status_code == 400
    bad_attr = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": keys.police,
            "service_code": "microbasural",
            "lat": str(lat),
            "long": str(lon),
            "attribute[volumen]": "enorme",
        },
    )
    assert bad_attr.status_code == 400
    assert "attributes.volumen" in bad_attr.json()[0]["description"]
    assert counts(db) == before


def test_unknown_request_is_404(client: TestClient) -> None:
    assert client.get(f"{BASE}/requests/nope.json").status_code == 404
    response = client.get(f"{BASE}/requests/00000000-0000-0000-0000-000000000000.json")
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404
