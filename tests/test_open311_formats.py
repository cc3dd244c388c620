"""Open311 GeoReport v2 complete: XML with the spec's elements, discovery, jurisdictions,
errors, address_string, the submitter's own view and identical re-submissions.

A real client too: the PyPI `georeport` library reads services and requests from
`live_server` in XML and JSON (it has no POST: filing goes through a plain form post, as
Open311 apps send it).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session

from app.identity import api_keys
from app.models import ApiKey, IdempotencyRecord, RiskFactorReport, Role
from app.risk_factors.open311 import own
from app.risk_factors.open311 import xml as spec
from app.timezone import CHILE_TZ
from tests.factories.keys import Keys, make_auth_headers, make_basic_headers
from tests.factories.risk import LANCO_TOWN

BASE = "/open311/v2"
LANCO = "14103"
# the element lists of GeoReport v2's sample responses, written out here independently of
# app/risk_factors/open311/xml.py (which must agree with them)
SPEC = {
    "service": [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ],
    "attribute": [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ],
    "request": [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ],
    "created": ["service_request_id", "service_notice", "account_id"],
    "error": ["code", "description"],
    "endpoint": ["specification", "url", "changeset", "type", "formats"],
}


def form(keys: Keys, **extra: str) -> dict[str, str]:
    lon, lat = LANCO_TOWN
    return {
        "api_key": keys.police,
        "service_code": "luminaria_apagada",
        "lat": f"{lat:.7f}",
        "long": f"{lon:.7f}",
        "description": "Poste 778 apagado frente al 1234",
        "address_string": "Errázuriz 1234, Lanco",
        "attribute[severidad]": "4",
        **extra,
    }


def parse(response: httpx.Response, root: str) -> ET.Element:
    assert response.headers["content-type"].startswith("text/xml"), response.text
    doc = ET.fromstring(response.content)
    assert doc.tag == root
    return doc


def children(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def test_every_get_answers_xml_with_the_specs_elements(client: TestClient, keys: Keys) -> None:
    services = parse(client.get(f"{BASE}/services.xml"), "services")
    assert len(services) > 0
    for service in services:
        assert service.tag == "service"
        assert children(service) == SPEC["service"]
    definition = parse(client.get(f"{BASE}/services/luminaria_apagada.xml"), "service_definition")
    assert children(definition) == ["service_code", "attributes"]
    attributes = definition.find("attributes")
    assert attributes is not None
    assert len(attributes) >= 2  # severidad and the type's own
    for attribute in attributes:
        assert children(attribute) == SPEC["attribute"]
        values = attribute.find("values")
        assert values is not None
        assert all(children(v) == ["key", "name"] for v in values)
    filed = client.post(f"{BASE}/requests.xml", data=form(keys))
    assert filed.status_code == 201, filed.text
    created = parse(filed, "service_requests")
    assert [children(r) for r in created] == [SPEC["created"]]
    rid = created.findtext("request/service_request_id")
    for url in (f"{BASE}/requests.xml", f"{BASE}/requests/{rid}.xml"):
        requests = parse(client.get(url), "service_requests")
        assert len(requests) >= 1
        assert all(children(r) == SPEC["request"] for r in requests)
    assert SPEC["request"] == list(spec.REQUEST)


def test_discovery_in_both_formats(client: TestClient) -> None:
    as_json = client.get(f"{BASE}/discovery.json").json()
    endpoint = as_json["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    doc = parse(client.get(f"{BASE}/discovery.xml"), "discovery")
    assert children(doc) == ["changeset", "contact", "key_service", "endpoints"]
    endpoints = doc.find("endpoints")
    assert endpoints is not None
    assert [children(e) for e in endpoints] == [SPEC["endpoint"]]
    assert [f.text for f in endpoints.iter("format")] == ["text/xml", "application/json"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_jurisdiction_must_be_a_loaded_comuna(client: TestClient, keys: Keys, fmt: str) -> None:
    assert (
        client.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": LANCO}).status_code == 200
    )
    for path in ("services", "requests", "services/luminaria_apagada"):
        response = client.get(f"{BASE}/{path}.{fmt}", params={"jurisdiction_id": "13101"})
        assert response.status_code == 404
        if fmt == "json":
            assert response.json()[0]["code"] == 404
            assert "13101" in response.json()[0]["description"]
        else:
            errors = parse(response, "errors")
            assert [children(e) for e in errors] == [SPEC["error"]]
            assert errors.findtext("error/code") == "404"
    filed = client.post(f"{BASE}/requests.{fmt}", data=form(keys, jurisdiction_id="99999"))
    assert filed.status_code == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_have_the_specs_shape_and_statuses(
    client: TestClient, keys: Keys, db: Session, fmt: str
) -> None:
    before = db.scalar(text("select count(*) from risk_factor_report"))
    cases = [
        (client.post(f"{BASE}/requests.{fmt}", data={**form(keys), "api_key": ""}), 403),
        (client.post(f"{BASE}/requests.{fmt}", data=form(keys, api_key="vga_x_mala")), 403),
        (client.post(f"{BASE}/requests.{fmt}", data=form(keys, api_key=keys.planner)), 403),
        (client.post(f"{BASE}/requests.{fmt}", data=form(keys, lat="norte")), 400),
        (client.post(f"{BASE}/requests.{fmt}", data=form(keys, service_code="ovni")), 404),
        (client.get(f"{BASE}/requests/{uuid.uuid4()}.{fmt}"), 404),
        (client.get(f"{BASE}/services/ovni.{fmt}"), 404),
        (client.get(f"{BASE}/requests.{fmt}", params={"status": "quizas"}), 400),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        if fmt == "json":
            body = response.json()
            assert [sorted(e) for e in body] == [["code", "description"]]
            assert body[0]["code"] == status
        else:
            errors = parse(response, "errors")
            assert errors.findtext("error/code") == str(status)
            assert errors.findtext("error/description")
    assert db.scalar(text("select count(*) from risk_factor_report")) == before


def test_the_submitter_reads_its_request_in_full_and_everyone_else_generalised(
    client: TestClient, keys: Keys, db: Session
) -> None:
    filed = client.post(f"{BASE}/requests.json", data=form(keys))
    assert filed.status_code == 201, filed.text
    rid = filed.json()[0]["service_request_id"]
    stored = db.get(RiskFactorReport, uuid.UUID(rid))
    assert stored is not None
    assert stored.address_string == "Errázuriz 1234, Lanco"

    mine = client.get(f"{BASE}/requests/{rid}.json", headers=make_auth_headers(keys.police))
    full = mine.json()[0]
    lon, lat = LANCO_TOWN
    assert full["description"] == "Poste 778 apagado frente al 1234"
    assert full["address"] == "Errázuriz 1234, Lanco"
    assert (full["lat"], full["long"]) == (
        pytest.approx(lat, abs=1e-6),
        pytest.approx(lon, abs=1e-6),
    )
    received = stored.received_at.astimezone(CHILE_TZ).isoformat()
    assert full["requested_datetime"] == received  # to the second (and below), not the month
    # over Basic as well (QGIS, GDAL), and in the list
    basic = client.get(f"{BASE}/requests.json", headers=make_basic_headers(keys.police))
    assert next(r for r in basic.json() if r["service_request_id"] == rid) == full

    for headers in ({}, make_auth_headers(keys.pdi), make_auth_headers(keys.planner)):
        seen = client.get(f"{BASE}/requests/{rid}.json", headers=headers).json()[0]
        assert seen["description"] is None
        assert seen["address"] != "Errázuriz 1234, Lanco"  # the micro-barrio's name instead
        assert seen["requested_datetime"][8:19] == "01T00:00:00"  # the month only
        assert (seen["lat"], seen["long"]) != (full["lat"], full["long"])
    public_xml = client.get(f"{BASE}/requests/{rid}.xml").text
    assert "Errázuriz" not in public_xml
    assert "Poste 778" not in public_xml


def test_an_identical_resubmission_returns_the_original_id(
    client: TestClient, keys: Keys, db: Session
) -> None:
    first = client.post(f"{BASE}/requests.json", data=form(keys))
    assert first.status_code == 201
    rid = first.json()[0]["service_request_id"]
    # the same form again (fields in another order, spaces around values): the same request
    shuffled = dict(reversed(list(form(keys).items())))
    shuffled["description"] = "  " + shuffled["description"] + " "
    again = client.post(f"{BASE}/requests.xml", data=shuffled)
    assert again.status_code == 200
    assert parse(again, "service_requests").findtext("request/service_request_id") == rid
    count = "select count(*) from risk_factor_report where reporter_key_id is not null"
    assert db.scalar(text(count)) == 1
    # another description, or another key: a new request
    other = client.post(f"{BASE}/requests.json", data=form(keys, description="Otro poste"))
    assert other.status_code == 201
    assert other.json()[0]["service_request_id"] != rid
    admin = client.post(f"{BASE}/requests.json", data=form(keys, api_key=keys.admin))
    assert admin.status_code == 201
    assert admin.json()[0]["service_request_id"] != rid


def test_after_the_window_the_same_form_is_a_new_request(
    client: TestClient, keys: Keys, db: Session
) -> None:
    first = client.post(f"{BASE}/requests.json", data=form(keys)).json()[0]["service_request_id"]
    record = db.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.report_id == uuid.UUID(first))
    )
    assert record is not None
    window = 600
    earlier = record.created_at - timedelta(seconds=2 * window)
    digest = own.form_digest(form(keys))
    db.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record.id)
        .values(created_at=earlier, idempotency_key=own.resubmission_key(digest, earlier, window))
    )
    db.commit()
    later = client.post(f"{BASE}/requests.json", data=form(keys))
    assert later.status_code == 201
    assert later.json()[0]["service_request_id"] != first


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_submit_and_follow_round_trip(client: TestClient, keys: Keys, fmt: str) -> None:
    filed = client.post(f"{BASE}/requests.{fmt}", data=form(keys, description=f"ida {fmt}"))
    assert filed.status_code == 201
    if fmt == "json":
        rid = filed.json()[0]["service_request_id"]
        followed = client.get(f"{BASE}/requests/{rid}.json").json()[0]
        status, code = followed["status"], followed["service_code"]
    else:
        rid = parse(filed, "service_requests").findtext("request/service_request_id")
        followed_xml = parse(client.get(f"{BASE}/requests/{rid}.xml"), "service_requests")
        status = followed_xml.findtext("request/status")
        code = followed_xml.findtext("request/service_code")
    assert (status, code) == ("open", "luminaria_apagada")
    listed = client.get(f"{BASE}/requests.{fmt}", params={"service_request_id": rid})
    assert rid in listed.text


# --- a real client -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def filed_live(engine: Engine, live_server: str) -> Iterator[str]:
    """A request filed on the live server by a committed police key (deleted after)."""
    with Session(engine) as session:
        key, secret = api_keys.create_key(
            session, name="Prueba Open311", role=Role.POLICE, institution="carabineros"
        )
        session.commit()
        key_id = key.id
    lon, lat = LANCO_TOWN
    response = httpx.post(
        f"{live_server}{BASE}/requests.json",
        data={
            "api_key": secret,
            "service_code": "luminaria_apagada",
            "lat": str(lat),
            "long": str(lon),
            "attribute[severidad]": "3",
            "description": "cliente georeport",
        },
        timeout=60,
    )
    assert response.status_code == 201, response.text
    rid = response.json()[0]["service_request_id"]
    try:
        yield rid
    finally:
        with Session(engine) as session:
            session.execute(delete(RiskFactorReport).where(RiskFactorReport.id == uuid.UUID(rid)))
            session.execute(delete(ApiKey).where(ApiKey.id == key_id))
            session.commit()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_library_reads_services_and_requests(
    live_server: str, filed_live: str, fmt: str
) -> None:
    from georeport import GeoReport

    client = GeoReport(f"{live_server}{BASE}", jurisdiction=LANCO, output_format=fmt)
    services = client.get_service_list()
    assert "luminaria_apagada" in {s["service_code"] for s in services}
    definition = client.get_service_definition("luminaria_apagada")
    assert definition["service_code"] == "luminaria_apagada"
    one: dict[str, Any] = client.get_service_request(filed_live)
    assert one["service_request_id"] == filed_live
    assert one["status"] == "open"
    assert one["description"] in (None, "")  # the generalised public view
    listed = client.get_service_requests(service_request_id=filed_live)
    listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one is a dict
    assert [r["service_request_id"] for r in listed] == [filed_live]
