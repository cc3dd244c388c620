"""What the work pages (/bandeja, /unidad, /proyectos) need from the API beyond the lifecycle:
the unit photographs the work it did, and municipal security links a report to a project at
any step (If-Match, as every change)."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories.images import make_png
from tests.factories.keys import Keys
from tests.factories.risk import counts, make_report, move
from tests.helpers import assert_problem


def _project(client: TestClient, keys: Keys) -> dict[str, Any]:
    made = client.post(
        "/api/v1/projects",
        json={"comuna": "14103", "name": "Recambio de luminarias", "typology": "IL"},
        headers=keys.h("planner"),
    )
    assert made.status_code == 201, made.text
    return made.json()


def _photo(client: TestClient, keys: Keys, rid: str, role: str) -> Any:
    return client.post(
        f"/api/v1/risk-factors/{rid}/photos",
        files={"file": ("trabajo.png", io.BytesIO(make_png()), "image/png")},
        headers=keys.h(role),
    )


def _etag(client: TestClient, keys: Keys, rid: str) -> str:
    return client.get(f"/api/v1/risk-factors/{rid}", headers=keys.h("admin")).headers["etag"]


def test_the_unit_adds_a_photo_only_to_what_is_routed_to_it(
    client: TestClient, keys: Keys, db: Session
) -> None:
    rid = make_report(client, keys)["id"]
    before = counts(db)
    # not routed yet: the unit does not see it at all
    assert_problem(_photo(client, keys, rid, "unit"), 404)
    move(client, keys, rid, "validado")
    move(client, keys, rid, "derivado")  # luminaria_apagada -> Alumbrado público
    assert_problem(_photo(client, keys, rid, "other_unit"), 404)
    assert_problem(_photo(client, keys, rid, "planner"), 403)
    assert counts(db)["report_photo"] == before["report_photo"]

    added = _photo(client, keys, rid, "unit")

    assert added.status_code == 201, added.text
    read = client.get(f"/api/v1/risk-factors/{rid}", headers=keys.h("unit")).json()
    assert [p["id"] for p in read["photos"]] == [added.json()["id"]]
    assert client.get(added.json()["url"], headers=keys.h("unit")).status_code == 200


def test_admin_links_and_unlinks_a_project_with_if_match(
    client: TestClient, keys: Keys, db: Session
) -> None:
    project = _project(client, keys)
    rid = make_report(client, keys)["id"]
    url = f"/api/v1/risk-factors/{rid}"
    etag = _etag(client, keys, rid)

    linked = client.patch(
        url, json={"project_id": project["id"]}, headers=keys.h("admin", **{"If-Match": etag})
    )

    assert linked.status_code == 200, linked.text
    assert linked.json()["project_id"] == project["id"]
    assert linked.json()["status"] == "reportado"  # linking is no lifecycle step
    assert linked.headers["etag"] != etag
    shown = client.get(f"/api/v1/projects/{project['id']}", headers=keys.h("planner")).json()
    assert [f["id"] for f in shown["factors"]] == [rid]

    # the old tag is stale: nothing changes
    stale = client.patch(
        url, json={"project_id": None}, headers=keys.h("admin", **{"If-Match": etag})
    )
    assert_problem(stale, 412)
    assert client.get(url, headers=keys.h("admin")).json()["project_id"] == project["id"]

    unlinked = client.patch(
        url,
        json={"project_id": None},
        headers=keys.h("admin", **{"If-Match": linked.headers["etag"]}),
    )
    assert unlinked.status_code == 200, unlinked.text
    assert unlinked.json()["project_id"] is None


def test_linking_a_project_is_refused_clearly(client: TestClient, keys: Keys, db: Session) -> None:
    project = _project(client, keys)
    rid = make_report(client, keys)["id"]
    url = f"/api/v1/risk-factors/{rid}"
    etag = _etag(client, keys, rid)
    before = counts(db)

    # the police officer who submitted it may edit it, but not link it to a project
    police = client.patch(
        url, json={"project_id": project["id"]}, headers=keys.h("police", **{"If-Match": etag})
    )
    assert_problem(police, 403)
    missing = client.patch(
        url, json={"project_id": 999_999}, headers=keys.h("admin", **{"If-Match": etag})
    )
    assert assert_problem(missing, 422)["errors"][0]["field"] == "project_id"
    text = client.patch(
        url, json={"project_id": "1"}, headers=keys.h("admin", **{"If-Match": etag})
    )
    assert_problem(text, 422)
    after = counts(db)
    assert after["risk_factor_report"] == before["risk_factor_report"]
    assert client.get(url, headers=keys.h("admin")).json()["project_id"] is None
    assert client.get(url, headers=keys.h("admin")).headers["etag"] == etag
