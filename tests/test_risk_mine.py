""" "My reports": `GET /api/v1/risk-factors?mine=true` lists the reports the calling key sent,
within what that key may see, for the field form's "Mis informes recientes".

Planted truth: two carabineros keys and a PDI key each send reports; each key's `mine` list
is exactly its own. Attacks: another institution's key, the unit the report was routed to,
an admin and a second key of the same institution never get someone else's reports through
`mine`; a token (no key) is told why it cannot ask.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import Role
from app.risk_factors.queries import MINE_NEEDS_KEY
from tests.factories.keys import Keys, make_auth_headers, make_key
from tests.factories.risk import FAR_IN_TOWN, make_point, make_report_body, move
from tests.helpers import assert_feature_collection, assert_matches_schema, assert_problem
from tests.test_authorization import oidc, rsa_key, token  # noqa: F401  (fixtures)

LIST = "/api/v1/risk-factors"


def _send(client: TestClient, headers: dict[str, str], **body: Any) -> str:
    response = client.post(LIST, json=make_report_body(**body), headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _ids(client: TestClient, headers: dict[str, str], **params: Any) -> set[str]:
    response = client.get(LIST, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {f["id"] for f in response.json()["features"]}


def test_mine_is_exactly_what_this_key_sent(
    client: TestClient, keys: Keys, db: Session, openapi: dict[str, Any]
) -> None:
    soto = keys.h("police")
    rojas = make_auth_headers(make_key(db, role=Role.POLICE, institution="carabineros"))
    mine = {_send(client, soto), _send(client, soto, type="microbasural", attributes={})}
    theirs = _send(client, rojas, geometry=make_point(*FAR_IN_TOWN))

    listed = client.get(LIST, params={"mine": "true"}, headers=soto)
    assert listed.headers["content-type"] == "application/geo+json"
    assert_feature_collection(listed.json())
    assert_matches_schema(openapi, LIST, "get", listed)
    assert {f["id"] for f in listed.json()["features"]} == mine
    assert _ids(client, rojas, mine="true") == {theirs}
    # without `mine` the institution rule still holds: both officers see all three
    assert mine | {theirs} <= _ids(client, soto)
    assert _ids(client, soto, mine="false") == _ids(client, soto)
    # `mine` combines with the other filters
    assert len(_ids(client, soto, mine="true", type="microbasural")) == 1
    assert _ids(client, soto, mine="true", status="resuelto") == set()
    stats = client.get(f"{LIST}/stats", params={"mine": "true"}, headers=soto)
    assert stats.status_code == 200, stats.text
    assert stats.json()["overall"]["total"] == 2


def test_no_other_key_gets_an_officers_reports_through_mine(
    client: TestClient, keys: Keys, db: Session
) -> None:
    report = _send(client, keys.h("police"))
    move(client, keys, report, "validado")
    move(client, keys, report, "derivado")  # routed to "Alumbrado público" (keys.unit)
    assert report in _ids(client, keys.h("unit"))  # the unit sees it, as routed to it

    for attacker in ("pdi", "unit", "admin", "planner"):
        assert report not in _ids(client, keys.h(attacker), mine="true"), attacker
    assert report not in _ids(client, keys.h("pdi"))  # nor without `mine`
    # a second carabineros key sees it in the institution's list, never as its own
    colleague = make_auth_headers(make_key(db, role=Role.POLICE, institution="carabineros"))
    assert report in _ids(client, colleague)
    assert _ids(client, colleague, mine="true") == set()


def test_a_bad_mine_value_is_a_422_naming_the_field(client: TestClient, keys: Keys) -> None:
    body = assert_problem(
        client.get(LIST, params={"mine": "quizas"}, headers=keys.h("police")), 422
    )
    assert body["errors"][0]["field"] == "mine"


def test_without_a_key_mine_is_refused_and_explained(
    client: TestClient,
    keys: Keys,
    oidc: Any,  # noqa: F811
    rsa_key: Any,  # noqa: F811
) -> None:
    _send(client, keys.h("police"))
    headers = make_auth_headers(token(rsa_key, vigia_institution="carabineros"))

    refused = client.get(LIST, params={"mine": "true"}, headers=headers)
    body = assert_problem(refused, 422, MINE_NEEDS_KEY)
    assert body["errors"] == [
        {
            "field": "mine",
            "location": "query",
            "reason": "solo con una clave de Vigía: un token OIDC no envía informes de terreno",
        }
    ]
    assert "clave de Vigía" in body["detail"]
    stats = client.get(f"{LIST}/stats", params={"mine": "true"}, headers=headers)
    assert_problem(stats, 422, MINE_NEEDS_KEY)
    # the same token lists its institution's reports as before
    assert client.get(LIST, headers=headers).json()["features"]
    # and the public is asked for a key first
    assert_problem(client.get(LIST, params={"mine": "true"}), 401)
