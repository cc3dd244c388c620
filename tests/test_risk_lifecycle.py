"""The lifecycle: every allowed and forbidden transition, roles, ETags, timeline."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.identity.caller import PUBLIC, Caller
from app.models import ReportStatus, Role
from app.risk_factors import field_reports as reports
from app.risk_factors import lifecycle
from tests.factories.keys import Keys
from tests.factories.risk import FAR_IN_TOWN, counts, make_point, make_report, move
from tests.helpers import assert_matches_schema, assert_problem

# Written out independently of app.risk_factors.lifecycle, as the issue states it.
EXPECTED = {
    ("reportado", "validado"),
    ("reportado", "descartado"),
    ("reportado", "duplicado"),
    ("validado", "derivado"),
    ("validado", "descartado"),
    ("validado", "duplicado"),
    ("derivado", "en_gestion"),
    ("derivado", "descartado"),
    ("derivado", "duplicado"),
    ("en_gestion", "resuelto"),
    ("en_gestion", "descartado"),
    ("en_gestion", "duplicado"),
    ("resuelto", "derivado"),  # reopening
}
STATUSES = [s.value for s in ReportStatus]
PATH_TO = {
    "reportado": [],
    "validado": ["validado"],
    "derivado": ["validado", "derivado"],
    "en_gestion": ["validado", "derivado", "en_gestion"],
    "resuelto": ["validado", "derivado", "en_gestion", "resuelto"],
    "descartado": ["descartado"],
    "duplicado": ["duplicado"],
}


def test_the_table_is_exactly_the_issue_s() -> None:
    allowed = {(a.value, b.value) for a, targets in lifecycle.ALLOWED.items() for b in targets}
    assert allowed == EXPECTED
    assert set(lifecycle.ALLOWED) == set(ReportStatus)


@pytest.mark.parametrize(("current", "target"), [(a, b) for a in STATUSES for b in STATUSES])
def test_pure_rule_for_every_pair(current: str, target: str) -> None:
    assert lifecycle.is_allowed(ReportStatus(current), ReportStatus(target)) == (
        (current, target) in EXPECTED
    )


def test_unit_may_only_work_its_queue() -> None:
    for target in ReportStatus:
        assert lifecycle.role_may_move(Role.ADMIN, target)
        assert not lifecycle.role_may_move(Role.POLICE, target)
        assert not lifecycle.role_may_move(Role.PLANNER, target)
        assert lifecycle.role_may_move(Role.UNIT, target) == (
            target.value in {"en_gestion", "resuelto"}
        )


def _extra(target: str, original_id: str) -> dict[str, Any]:
    return {"duplicate_of": original_id} if target == "duplicado" else {}


def _bring_to(client: TestClient, keys: Keys, report_id: str, state: str, original: str) -> None:
    for step in PATH_TO[state]:
        response = move(client, keys, report_id, step, **_extra(step, original))
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_every_transition_through_the_api(
    client: TestClient, keys: Keys, db: Session, current: str, target: str
) -> None:
    original = make_report(client, keys, geometry=make_point(*FAR_IN_TOWN))["id"]
    report = make_report(client, keys)["id"]
    _bring_to(client, keys, report, current, original)
    before = counts(db)
    response = move(client, keys, report, target, **_extra(target, original))
    if (current, target) in EXPECTED:
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == target
        assert body["timeline"][-1]["from_status"] == current
        assert body["timeline"][-1]["to_status"] == target
    else:
        problem = assert_problem(response, 409, "transicion_no_permitida")
        assert problem["current_status"] == current
        assert counts(db) == before


def test_full_lifecycle_timeline_etag_and_overdue(
    client: TestClient, keys: Keys, openapi: dict[str, Any]
) -> None:
    report = make_report(client, keys)
    rid = report["id"]
    got = client.get(f"/api/v1/risk-factors/{rid}", headers=keys.h("admin"))
    assert_matches_schema(openapi, "/api/v1/risk-factors/{report_id}", "get", got)
    assert got.headers["etag"] == '"v1"'
    assert move(client, keys, rid, "validado", note="Verificado en ronda").status_code == 200
    routed = move(client, keys, rid, "derivado")
    assert routed.json()["responsible_unit"] == "Alumbrado público"
    assert routed.headers["etag"] == '"v3"'
    # the unit now sees it and works it
    working = move(client, keys, rid, "en_gestion", role="unit", etag=routed.headers["etag"])
    assert working.status_code == 200, working.text
    done = move(client, keys, rid, "resuelto", role="unit", note="Se cambió la ampolleta")
    assert done.status_code == 200
    body = done.json()
    assert body["resolved_at"] is not None
    assert body["overdue"] is False
    timeline = body["timeline"]
    assert [s["to_status"] for s in timeline] == [
        "reportado",
        "validado",
        "derivado",
        "en_gestion",
        "resuelto",
    ]
    assert timeline[1]["note"] == "Verificado en ronda"
    assert timeline[1]["actor"]["role"] == "admin"
    assert timeline[3]["actor"]["role"] == "unit"
    assert timeline[3]["actor"]["unit"] == "Alumbrado público"
    assert timeline[2]["details"] == {"responsible_unit": "Alumbrado público"}
    reopened = move(client, keys, rid, "derivado", note="Volvió a apagarse")
    assert reopened.status_code == 200
    assert reopened.json()["resolved_at"] is None
    assert reopened.json()["timeline"][-1]["details"]["reopened"] is True


def test_if_match_missing_is_428_and_stale_is_412(
    client: TestClient, keys: Keys, db: Session
) -> None:
    rid = make_report(client, keys)["id"]
    url = f"/api/v1/risk-factors/{rid}/transitions"
    before = counts(db)
    assert_problem(
        client.post(url, json={"to": "validado"}, headers=keys.h("admin")), 428, "falta_if_match"
    )
    assert counts(db) == before
    first = move(client, keys, rid, "validado", etag='"v1"')
    assert first.status_code == 200
    stale = move(client, keys, rid, "derivado", etag='"v1"')
    body = assert_problem(stale, 412, "version_desactualizada")
    assert body["current_etag"] == '"v2"'
    assert counts(db) == before | {"report_transition": before["report_transition"] + 1}
    # If-Match compares strongly (RFC 9110 13.1.1): a weak tag never matches
    assert_problem(move(client, keys, rid, "derivado", etag='W/"v2"'), 412)
    assert move(client, keys, rid, "derivado", etag='"v2"').status_code == 200


def test_patch_requires_if_match_too(client: TestClient, keys: Keys) -> None:
    rid = make_report(client, keys)["id"]
    url = f"/api/v1/risk-factors/{rid}"
    assert_problem(client.patch(url, json={"severity": 5}, headers=keys.h("police")), 428)
    ok = client.patch(url, json={"severity": 5}, headers=keys.h("police", **{"If-Match": '"v1"'}))
    assert ok.status_code == 200, ok.text
    assert ok.json()["severity"] == 5
    assert ok.headers["etag"] == '"v2"'
    stale = client.patch(url, json={"severity": 1}, headers=keys.h("admin", **{"If-Match": '"v1"'}))
    assert_problem(stale, 412)
    bad = client.patch(
        url, json={"attributes": {"poste_id": 5}}, headers=keys.h("admin", **{"If-Match": '"v2"'})
    )
    assert assert_problem(bad, 422)["errors"][0]["field"] == "attributes.poste_id"


def test_roles_on_transitions(client: TestClient, keys: Keys) -> None:
    rid = make_report(client, keys)["id"]
    assert_problem(move(client, keys, rid, "validado", role="police", etag='"v1"'), 403)
    assert_problem(move(client, keys, rid, "validado", role="planner", etag='"v1"'), 403)
    # not routed to the unit yet: it cannot even see it
    assert_problem(move(client, keys, rid, "en_gestion", role="unit", etag='"v1"'), 404)
    move(client, keys, rid, "validado")
    move(client, keys, rid, "derivado")
    # the other unit neither
    assert_problem(move(client, keys, rid, "en_gestion", role="other_unit", etag='"v3"'), 404)
    # the right unit may work it but not discard it
    assert_problem(move(client, keys, rid, "descartado", role="unit", etag='"v3"'), 403)


def test_routing_to_a_named_unit_and_visibility(client: TestClient, keys: Keys) -> None:
    rid = make_report(client, keys)["id"]
    move(client, keys, rid, "validado")
    routed = move(client, keys, rid, "derivado", responsible_unit="Aseo y ornato")
    assert routed.json()["responsible_unit"] == "Aseo y ornato"
    url = f"/api/v1/risk-factors/{rid}"
    assert client.get(url, headers=keys.h("other_unit")).status_code == 200
    assert_problem(client.get(url, headers=keys.h("unit")), 404)
    assert client.get(url, headers=keys.h("planner")).status_code == 200
    assert_problem(client.get(url, headers=keys.h("pdi")), 404)  # another institution's report
    assert_problem(client.get(url), 401)


@pytest.mark.parametrize(
    "outsider",
    [
        Caller(role=Role.POLICE, institution="pdi", key_id=1),
        Caller(role=Role.UNIT, unit="Aseo y ornato", key_id=2),
        PUBLIC,
    ],
    ids=["otra institución", "otra unidad", "público"],
)
def test_reading_a_report_checks_visibility_in_the_service(
    client: TestClient, keys: Keys, db: Session, outsider: Caller
) -> None:
    """No route has to remember `load_visible`: the service answers 404 by itself."""
    rid = uuid.UUID(make_report(client, keys)["id"])
    owner = Caller(role=Role.POLICE, institution="carabineros", key_id=3)
    assert reports.read_report(db, rid, owner).id == rid
    with pytest.raises(NotFound) as caught:
        reports.read_report(db, rid, outsider)
    assert caught.value.instance_code == "informe_no_encontrado"  # the same as for a missing id
    with pytest.raises(NotFound):
        reports.read_report(db, uuid.uuid4(), owner)


def test_duplicate_needs_the_original(client: TestClient, keys: Keys) -> None:
    rid = make_report(client, keys)["id"]
    body = assert_problem(move(client, keys, rid, "duplicado"), 422)
    assert body["errors"][0]["field"] == "duplicate_of"
    original = make_report(client, keys, geometry=make_point(*FAR_IN_TOWN))["id"]
    done = move(client, keys, rid, "duplicado", duplicate_of=original)
    assert done.json()["duplicate_of"] == original
