"""The council registry (issue #21): seats, sessions with attendance and quorum, agreements
and follow-ups, minutes, agenda, indicators against hand-computed figures, audit, and bad
input refused in Spanish with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.council import indicators as council_indicators
from app.council.seats import quorum_needed, seats
from app.models import AuditEvent
from app.models.council import Agreement, CouncilSession
from app.reports.period import Month, Period, year_period
from tests.factories.images import make_png
from tests.helpers import assert_problem

S = "/api/v1/council"
ALL_SEATS = list(seats())


def _session(
    client: TestClient, keys: Any, held_on: str, present: list[str], **extra: Any
) -> dict[str, Any]:
    body = {"held_on": held_on, "present": present, **extra}
    response = client.post(f"{S}/sessions", json=body, headers=keys.h("admin"))
    assert response.status_code == 201, response.text
    return response.json()


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_the_seats_are_those_of_the_plan_and_quorum_is_an_absolute_majority() -> None:
    assert len(ALL_SEATS) == 14
    assert {"presidente", "carabineros", "fiscalia", "pdi", "senda", "sename"} <= set(ALL_SEATS)
    assert {"cosoc_1", "cosoc_2", "concejal_1", "concejal_2"} <= set(ALL_SEATS)
    assert quorum_needed(14) == 8
    assert quorum_needed(13) == 7


def test_a_session_with_two_agreements_records_attendance_quorum_and_audit(
    client: TestClient, keys: Any, db: Session
) -> None:
    before = _count(db, AuditEvent)
    body = _session(
        client,
        keys,
        "2026-03-10",
        ALL_SEATS[:8],
        agreements=[
            {
                "text": "Poda en Pasaje Los Aromos",
                "responsible_institution": "Aseo y ornato",
                "due_on": "2026-04-10",
            },
            {
                "text": "Ronda preventiva en la plaza",
                "responsible_institution": "Carabineros",
                "due_on": "2026-03-31",
            },
        ],
    )
    assert body["present_count"] == 8
    assert body["seat_count"] == 14
    assert body["quorum_needed"] == 8
    assert body["quorum"] is True
    assert [a["responsible_institution"] for a in body["agreements"]] == [
        "Aseo y ornato",
        "Carabineros",
    ]
    assert all(a["status"] == "pendiente" for a in body["agreements"])
    assert sum(1 for a in body["attendance"] if a["present"]) == 8
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id).offset(before)).all()
    assert "council.session.create" in actions

    short = _session(client, keys, "2026-03-20", ALL_SEATS[:7], kind="extraordinaria")
    assert short["quorum"] is False  # 7 of 14: no absolute majority

    listed = client.get(f"{S}/sessions?year=2026", headers=keys.h("planner")).json()
    assert [s["held_on"] for s in listed] == ["2026-03-20", "2026-03-10"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"held_on": "2999-01-01"}, "held_on"),
        ({"held_on": "2026-03-10", "present": ["alcalde_suplente"]}, "present.0"),
        (
            {
                "held_on": "2026-03-10",
                "agreements": [
                    {"text": "Algo", "responsible_institution": "DOM", "due_on": "2026-03-01"}
                ],
            },
            "agreements.0.due_on",
        ),
        ({"held_on": "2026-03-10", "kind": "secreta"}, "kind"),
        ({"held_on": "2026-03-10", "participants": ["Ana"]}, "participants"),
    ],
)
def test_bad_sessions_are_refused_in_spanish_and_write_nothing(
    client: TestClient, keys: Any, db: Session, body: dict[str, Any], field: str
) -> None:
    response = client.post(f"{S}/sessions", json=body, headers=keys.h("admin"))
    problem = assert_problem(response, 422)
    assert any(e["field"].endswith(field) for e in problem["errors"]), problem
    assert _count(db, CouncilSession) == 0
    assert _count(db, Agreement) == 0


def test_follow_up_marks_an_agreement_met_and_the_agenda_lists_what_is_due(
    client: TestClient, keys: Any
) -> None:
    first = _session(
        client,
        keys,
        "2026-01-12",
        ALL_SEATS,
        agreements=[
            {
                "text": "Luminarias calle Baquedano",
                "responsible_institution": "Alumbrado",
                "due_on": "2026-02-01",
            },
            {
                "text": "Informe de Fiscalía",
                "responsible_institution": "Fiscalía",
                "due_on": "2026-06-30",
            },
        ],
    )
    second = _session(client, keys, "2026-02-09", ALL_SEATS)
    agenda = client.get(f"{S}/sessions/{second['id']}/agenda", headers=keys.h("planner")).json()
    assert [a["text"] for a in agenda["due"]] == ["Luminarias calle Baquedano"]

    lights = first["agreements"][0]["id"]
    done = client.post(
        f"{S}/agreements/{lights}/follow-ups",
        json={"note": "Repuestas 6 luminarias", "status": "cumplido", "session_id": second["id"]},
        headers=keys.h("admin"),
    )
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["status"] == "cumplido"
    assert body["completed_on"] == "2026-02-09"
    assert body["on_time"] is False  # due 1 Feb, met on the 9th
    assert body["follow_ups"][0]["note"] == "Repuestas 6 luminarias"
    again = client.get(f"{S}/sessions/{second['id']}/agenda", headers=keys.h("planner")).json()
    assert again["due"] == []

    bad = client.post(
        f"{S}/agreements/{lights}/follow-ups",
        json={"note": "x", "status": "archivado"},
        headers=keys.h("admin"),
    )
    assert_problem(bad, 422)


def test_minutes_are_stored_with_their_hash_and_only_documents_are_accepted(
    client: TestClient, keys: Any
) -> None:
    council = _session(client, keys, "2026-03-10", ALL_SEATS[:9])
    url = f"{S}/sessions/{council['id']}/minutes"
    pdf = b"%PDF-1.4\n% acta\n"
    stored = client.put(
        url, files={"file": ("acta.pdf", pdf, "application/pdf")}, headers=keys.h("admin")
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["minutes"]["media_type"] == "application/pdf"
    back = client.get(url, headers=keys.h("planner"))
    assert back.content == pdf
    assert (
        client.put(
            url, files={"file": ("f.png", make_png(), "image/png")}, headers=keys.h("admin")
        ).status_code
        == 200
    )
    refused = client.put(
        url, files={"file": ("acta.exe", b"MZ\x90\x00", "application/pdf")}, headers=keys.h("admin")
    )
    assert_problem(refused, 422)


def test_planners_read_and_only_admins_write(client: TestClient, keys: Any) -> None:
    body = {"held_on": "2026-03-10", "present": []}
    assert client.post(f"{S}/sessions", json=body, headers=keys.h("planner")).status_code == 403
    assert client.post(f"{S}/sessions", json=body).status_code == 401
    assert client.get(f"{S}/sessions", headers=keys.h("police")).status_code == 403
    assert client.get(f"{S}/sessions", headers=keys.h("planner")).status_code == 200


def test_members_fill_seats(client: TestClient, keys: Any) -> None:
    response = client.put(
        f"{S}/seats/carabineros",
        json={"representative": "Mayor Juan Soto, 2a Comisaría Lanco"},
        headers=keys.h("admin"),
    )
    assert response.status_code == 200, response.text
    seat = next(s for s in response.json() if s["seat"] == "carabineros")
    assert seat["representative"].startswith("Mayor Juan Soto")
    missing = client.put(f"{S}/seats/rey", json={"representative": "X"}, headers=keys.h("admin"))
    assert_problem(missing, 404, "asiento_no_encontrado")


# --- indicators against a hand-computed fixture ------------------------------------------------
#
# 2025: sessions on 14 Jan (all 14 seats), 11 Feb (8 seats), 25 Feb extraordinary (7 seats),
# 8 Apr (10 seats); none in March. Through April (as_of 30 Apr): 4 sessions, months with a
# session 3 of 4 = 75.0 %, attendance (14+8+7+10)/(4*14) = 39/56 = 69.6 %.
# Agreements due in Jan-Apr: A due 1 Feb met 30 Jan (on time), B due 15 Mar met 20 Mar (late),
# C due 10 Apr open, D due 20 Apr dropped (not counted), E due 30 Jun (outside) -> 1 of 3.


def _fixture(client: TestClient, keys: Any) -> None:
    jan = _session(
        client,
        keys,
        "2025-01-14",
        ALL_SEATS,
        agreements=[
            {"text": "Acuerdo A", "responsible_institution": "DOM", "due_on": "2025-02-01"},
            {"text": "Acuerdo B", "responsible_institution": "SENDA", "due_on": "2025-03-15"},
            {"text": "Acuerdo C", "responsible_institution": "PDI", "due_on": "2025-04-10"},
            {"text": "Acuerdo D", "responsible_institution": "DOM", "due_on": "2025-04-20"},
            {"text": "Acuerdo E", "responsible_institution": "DOM", "due_on": "2025-06-30"},
        ],
    )
    _session(client, keys, "2025-02-11", ALL_SEATS[:8])
    _session(client, keys, "2025-02-25", ALL_SEATS[:7], kind="extraordinaria")
    _session(client, keys, "2025-04-08", ALL_SEATS[:10])
    ids = {a["text"][-1]: a["id"] for a in jan["agreements"]}
    for text, status, when in (
        ("A", "cumplido", "2025-01-30"),
        ("B", "cumplido", "2025-03-20"),
        ("D", "descartado", None),
    ):
        body = {"note": "seguimiento", "status": status}
        if when:
            body["completed_on"] = when
        r = client.post(
            f"{S}/agreements/{ids[text]}/follow-ups", json=body, headers=keys.h("admin")
        )
        assert r.status_code == 201, r.text


def test_council_indicators_match_the_hand_computed_fixture(
    client: TestClient, keys: Any, db: Session
) -> None:
    _fixture(client, keys)
    period = Period(Month(2025, 1), Month(2025, 12))
    as_of = datetime(2025, 4, 30, 20, tzinfo=UTC)
    assert council_indicators.council_sessions(db, "14103", period, as_of) == 4
    assert council_indicators.months_with_session(db, "14103", period, as_of) == 75.0
    assert council_indicators.attendance_share(db, "14103", period, as_of) == round(
        100 * 39 / 56, 1
    )
    assert council_indicators.agreements_on_time(db, "14103", period, as_of) == round(100 / 3, 1)

    summary = client.get(f"{S}/indicators?year=2025", headers=keys.h("planner")).json()
    assert summary["sessions"] == 4
    assert summary["extraordinary"] == 1
    assert summary["months_with_session"] == 3  # of 12 months elapsed for a past year
    assert [m["sessions"] for m in summary["months"][:4]] == [1, 2, 0, 1]
    fiscalia = next(a for a in summary["attendance"] if a["institution"] == "Fiscalía")
    assert (fiscalia["present"], fiscalia["possible"]) == (3, 4)  # absent on 25 Feb
    assert summary["agreements_due"] == 3 + 1  # E falls due in June, inside the year
    assert summary["agreements_on_time"] == 1


def test_an_empty_year_has_no_data_rather_than_zero(db: Session) -> None:
    period = year_period(2024)
    as_of = datetime(2025, 1, 1, tzinfo=UTC)
    assert council_indicators.council_sessions(db, "14103", period, as_of) == 0
    assert council_indicators.attendance_share(db, "14103", period, as_of) is None
    assert council_indicators.agreements_on_time(db, "14103", period, as_of) is None
    assert council_indicators.months_with_session(db, "14103", period, as_of) == 0.0
