"""Prevention activities (issue #21): recording, spreadsheet imports (CSV and XLSX) with the
complaint import's all-or-nothing / skip-invalid rule, bad input refused in Spanish with
nothing written, no place for participants' names, and the indicators against hand-computed
figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Enum, String, Text, func, inspect, select
from sqlalchemy.orm import Session

from app.activities import indicators as ind
from app.activities.catalog import ATTENDANCE_COLUMNS, kinds
from app.models import AuditEvent
from app.models.activity import ActivityAttendance, PreventionActivity
from app.reports.period import year_period
from app.reports.plan import default_plan
from tests.factories.activities import (
    HEADER,
    activity_row,
    csv_bytes,
    make_barrio_ranking,
    xlsx_bytes,
)
from tests.helpers import assert_problem

A = "/api/v1/activities"


def _count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(PreventionActivity)) or 0)


def _import(client: TestClient, keys: Any, content: bytes, name: str, **params: str) -> Any:
    return client.post(
        f"{A}/import",
        params=params,
        files={"file": (name, content, "application/octet-stream")},
        headers=keys.h("admin"),
    )


def test_every_kind_points_at_a_goal_of_the_plan() -> None:
    goals = default_plan().goals()
    assert all(k.goal in goals for k in kinds().values())
    prevention = {g for g in goals if g.startswith("III.") and not g.startswith("III.7")}
    assert prevention <= {k.goal for k in kinds().values()}  # III.1-III.6 all have a kind


def test_an_activity_is_recorded_with_counts_and_audited(
    client: TestClient, keys: Any, db: Session
) -> None:
    response = client.post(A, json=activity_row(), headers=keys.h("admin"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["goal"] == "III.1.M1"
    assert body["attendance_total"] == 24
    assert body["attendance"]["mujeres_0_13"] == 12
    assert body["barrio"] == "B03001"
    assert db.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == (
        "activity.create"
    )
    listed = client.get(f"{A}?year=2025", headers=keys.h("planner")).json()
    assert [a["ref"] for a in listed] == ["ACT-1"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"goal": "III.9.M1"}, "goal"),  # unknown meta
        ({"goal": "III.2.M3"}, "goal"),  # a meta that is not the kind's
        ({"kind": "fiesta"}, "kind"),
        ({"mujeres_0_13": -3}, "mujeres_0_13"),  # negative attendance
        ({"held_on": "2999-05-01"}, "held_on"),  # done, in the future
        ({"barrio": "B99999"}, "barrio"),
        ({"target_group": "todos"}, "target_group"),
        ({"participants": ["Ana Pérez", "Luis Soto"]}, "participants"),  # no names, ever
        ({"nombres": "Ana Pérez"}, "nombres"),
    ],
)
def test_bad_activities_are_refused_in_spanish_and_write_nothing(
    client: TestClient, keys: Any, db: Session, change: dict[str, Any], field: str
) -> None:
    response = client.post(A, json=activity_row(**change), headers=keys.h("admin"))
    problem = assert_problem(response, 422)
    assert any(e["field"] == field for e in problem["errors"]), problem
    assert all(any(c in e["reason"] for c in "aeiou") for e in problem["errors"])
    assert _count(db) == 0


def test_a_planned_activity_may_be_in_the_future(client: TestClient, keys: Any) -> None:
    row = activity_row(held_on="2999-05-01", status="programada", ref="PLAN-1")
    assert client.post(A, json=row, headers=keys.h("admin")).status_code == 201


def test_no_column_can_hold_a_participant_name(db: Session) -> None:
    """Attendance is (activity, sex, age band, count); the activity's text columns are the
    place, target group, institution, codes and evidence metadata, none about a person."""
    columns = {c["name"]: c for c in inspect(db.connection()).get_columns("activity_attendance")}
    assert set(columns) == {"activity_id", "sex", "age_band", "count"}
    assert str(columns["count"]["type"]) == "INTEGER"
    text_columns = {
        c["name"]
        for c in inspect(db.connection()).get_columns("prevention_activity")
        if isinstance(c["type"], String | Text) and not isinstance(c["type"], Enum)
    }
    assert text_columns == {
        "comuna_code",
        "ref",
        "kind",
        "goal_code",
        "place",
        "target_group",
        "responsible_institution",
        "recorded_by",
        "evidence_name",
        "evidence_type",
        "evidence_sha256",
    }
    assert len(ATTENDANCE_COLUMNS) == 10


def test_a_csv_and_an_xlsx_import_the_same_activities(
    client: TestClient, keys: Any, db: Session
) -> None:
    rows = [
        activity_row(),
        activity_row(
            ref="ACT-2",
            kind="taller_jefas_hogar",
            place="Sede JJVV Los Castaños",
            barrio="B01001",
            target_group="jefas_hogar",
            mujeres_30_59=15,
            mujeres_0_13=0,
            hombres_0_13=0,
        ),
    ]
    first = _import(client, keys, csv_bytes(rows), "actividades.csv")
    assert first.status_code == 200, first.text
    assert first.json()["inserted"] == 2
    renamed = [dict(r, ref=r["ref"] + "-X") for r in rows]
    second = _import(client, keys, xlsx_bytes(renamed), "actividades.xlsx")
    assert second.status_code == 200, second.text
    assert second.json()["inserted"] == 2
    listed = client.get(f"{A}?year=2025", headers=keys.h("planner")).json()
    by_ref = {a["ref"]: a for a in listed}
    for ref in ("ACT-1", "ACT-2"):
        a, b = by_ref[ref], by_ref[ref + "-X"]
        assert (a["held_on"], a["attendance"], a["goal"]) == (
            b["held_on"],
            b["attendance"],
            b["goal"],
        )
    again = _import(client, keys, csv_bytes(rows), "actividades.csv")
    problem = assert_problem(again, 422, "importacion_rechazada")
    assert {e["field"] for e in problem["errors"]} == {"ref"}  # already recorded: no duplicates
    assert _count(db) == 4


SPANISH = {
    "ref": "Código",
    "held_on": "Fecha",
    "kind": "Tipo",
    "status": "Estado",
    "place": "Lugar",
    "barrio": "Barrio",
    "target_group": "Grupo objetivo",
    "institution": "INSTITUCIÓN",
}


def test_a_sheet_with_spanish_column_titles_imports_as_the_english_one(
    client: TestClient, keys: Any, db: Session
) -> None:
    english = [activity_row(), activity_row(ref="ACT-2", place="Gimnasio Municipal")]
    header = [SPANISH.get(c, c) for c in HEADER]
    spanish = [{SPANISH.get(k, k): v for k, v in r.items()} for r in english]
    made = _import(client, keys, csv_bytes(spanish, header), "actividades.csv")
    assert made.status_code == 200, made.text
    assert made.json()["inserted"] == 2
    sheet = [dict(r, **{"Código": r["Código"] + "-X"}) for r in spanish]
    from_xlsx = _import(client, keys, xlsx_bytes(sheet, header), "actividades.xlsx")
    assert from_xlsx.status_code == 200, from_xlsx.text
    listed = {a["ref"]: a for a in client.get(f"{A}?year=2025", headers=keys.h("planner")).json()}
    assert listed["ACT-2"]["place"] == listed["ACT-2-X"]["place"] == "Gimnasio Municipal"
    assert listed["ACT-1"]["attendance"] == listed["ACT-1-X"]["attendance"]
    # a title that is neither the Spanish nor the API name is still refused, by its own name
    bad = [h if h != "Lugar" else "Sitio" for h in header]
    problem = assert_problem(
        _import(client, keys, csv_bytes(spanish, bad), "a.csv"), 422, "importacion_rechazada"
    )
    assert {(e["field"], e["reason"]) for e in problem["errors"]} == {
        ("Sitio", "columna no permitida"),
        ("place", "falta la columna"),
    }
    assert _count(db) == 4


def test_a_spreadsheet_with_a_bad_row_writes_nothing_or_only_the_good_rows(
    client: TestClient, keys: Any, db: Session
) -> None:
    rows = [
        activity_row(),
        activity_row(ref="ACT-2", mujeres_0_13=-1),
        activity_row(ref="ACT-3", goal="III.9.M9"),
    ]
    header = (*HEADER, "goal")
    for content, name in ((csv_bytes(rows, header), "a.csv"), (xlsx_bytes(rows, header), "a.xlsx")):
        refused = _import(client, keys, content, name)
        problem = assert_problem(refused, 422, "importacion_rechazada")
        assert [(e["row"], e["field"]) for e in problem["errors"]] == [
            (2, "mujeres_0_13"),
            (3, "goal"),
        ]
        assert "no se escribió nada" in problem["detail"]
        assert _count(db) == 0
    partial = _import(client, keys, csv_bytes(rows, header), "a.csv", mode="skip-invalid")
    assert partial.status_code == 200, partial.text
    assert (partial.json()["inserted"], partial.json()["rejected"]) == (1, 2)
    assert _count(db) == 1


def test_a_names_column_refuses_the_whole_file(client: TestClient, keys: Any, db: Session) -> None:
    header = (*HEADER, "nombres_participantes")
    rows = [activity_row(nombres_participantes="Ana Pérez; Luis Soto")]
    for content, name in ((csv_bytes(rows, header), "a.csv"), (xlsx_bytes(rows, header), "a.xlsx")):
        problem = assert_problem(_import(client, keys, content, name), 422, "importacion_rechazada")
        assert problem["errors"][0]["field"] == "nombres_participantes"
        assert problem["errors"][0]["reason"] == "columna no permitida"
    assert int(db.scalar(select(func.count()).select_from(ActivityAttendance)) or 0) == 0


def test_a_file_that_is_not_a_spreadsheet_is_refused(client: TestClient, keys: Any) -> None:
    broken = b"PK\x03\x04 not really a workbook"
    assert_problem(_import(client, keys, broken, "a.xlsx"), 422, "importacion_rechazada")
    assert_problem(_import(client, keys, b"", "a.csv"), 422)


def test_evidence_is_kept_and_only_documents_accepted(client: TestClient, keys: Any) -> None:
    activity = client.post(A, json=activity_row(), headers=keys.h("admin")).json()
    url = f"{A}/{activity['id']}/evidence"
    ok = client.put(
        url,
        files={"file": ("lista.pdf", b"%PDF-1.7\n", "application/pdf")},
        headers=keys.h("admin"),
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["evidence_sha256"]
    assert client.get(url, headers=keys.h("planner")).content == b"%PDF-1.7\n"
    assert_problem(
        client.put(url, files={"file": ("x.txt", b"hola", "text/plain")}, headers=keys.h("admin")),
        422,
    )


# --- indicators against a hand-computed fixture ----------------------------------------------
#
# 2025, data cut on 30 June: III.1.M1 charlas: done 3 Apr (Escuela Malalhue, B03001, 12+10+2),
# done 9 May (Escuela Malalhue again, 20), done 2 Jun (Liceo Lanco, B01001, 30 of whom 14-17:
# 30), programada 15 Jun (not done), suspendida 20 Jun (neither), done 10 Jul (after the cut).
# -> planned 4, done 3, share 75.0, places 2, barrios 2, attendance 24+20+30 = 74,
#    minors (0-17) 22+20+30 = 72 (the 30-59 women are not).
# Barrio ranking: B01001 and B01002 critical, B03001 high -> coverage 1 of 2 = 50.0.


def _fixture(client: TestClient, keys: Any) -> None:
    rows = [
        activity_row(),
        activity_row(
            ref="C2", held_on="2025-05-09", mujeres_0_13=20, hombres_0_13=0, mujeres_30_59=0
        ),
        activity_row(
            ref="C3",
            held_on="2025-06-02",
            place="Liceo Lanco",
            barrio="B01001",
            mujeres_0_13=0,
            hombres_0_13=0,
            mujeres_30_59=0,
            hombres_14_17=30,
        ),
        activity_row(ref="C4", held_on="2025-06-15", status="programada", place="Escuela X"),
        activity_row(ref="C5", held_on="2025-06-20", status="suspendida", place="Escuela Y"),
        activity_row(ref="C6", held_on="2025-07-10", place="Escuela Z"),
    ]
    for row in rows:
        r = client.post(A, json=row, headers=keys.h("admin"))
        assert r.status_code == 201, r.text


def test_goal_indicators_match_the_hand_computed_fixture(
    client: TestClient, keys: Any, db: Session
) -> None:
    _fixture(client, keys)
    period, as_of = year_period(2025), datetime(2025, 6, 30, 23, tzinfo=UTC)
    goal = "III.1.M1"
    assert ind.done(db, "14103", goal, period, as_of) == 3
    assert ind.done_share(db, "14103", goal, period, as_of) == 75.0
    assert ind.places(db, "14103", goal, period, as_of) == 2
    assert ind.barrios(db, "14103", goal, period, as_of) == 2
    assert ind.attendance(db, "14103", goal, period, as_of) == 74
    assert ind.minors_attendance(db, "14103", goal, period, as_of) == 72
    assert ind.done(db, "14103", "III.2.M3", period, as_of) == 0
    assert ind.done_share(db, "14103", "III.2.M3", period, as_of) is None

    assert ind.critical_coverage(db, "14103", period, as_of) is None  # no ranking yet
    make_barrio_ranking(db, {"B01001": "crítico", "B01002": "crítico", "B03001": "alto"})
    assert ind.critical_coverage(db, "14103", period, as_of) == 50.0
    summary = client.get(f"{A}/indicators?year=2025", headers=keys.h("planner")).json()
    assert summary["critical_barrios"] == ["B01001", "B01002"]
    assert summary["critical_reached"] == ["B01001"]


def test_only_admins_write_and_planners_read(client: TestClient, keys: Any) -> None:
    assert client.post(A, json=activity_row(), headers=keys.h("planner")).status_code == 403
    assert client.get(A, headers=keys.h("unit")).status_code == 403
    assert client.get(f"{A}/kinds", headers=keys.h("planner")).status_code == 200
