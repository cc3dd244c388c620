"""Rankings against PostGIS: compute, read in three formats, reproduce, verify, profiles."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.complaints.ingest import import_complaints
from app.models import ExternalVariable, RankingSnapshot, RankingUnitResult, Role, ScoringProfileRow
from app.rankings.external import load_external_variables
from app.scoring import BARRIO_PROFILE_V1, DEFAULT_PROFILES, MICRO_BARRIO_PROFILE_V1
from tests.factories.keys import make_auth_headers, make_key
from tests.helpers import assert_feature_collection, assert_matches_schema, assert_problem

URL = "/api/v1/rankings"
BODY = {"level": "micro_barrio", "comuna": "14103", "period_end": "2026-06-30", "months": 12}
# (micro-barrio, category, occurred_at): a hot micro-barrio, a calmer one, drug cases
CASES = [
    *[("B01001-03", "351", f"2026-0{m}-10T21:00:00") for m in range(1, 7)],
    *[("B01001-03", "551", f"2025-{m:02d}-05T10:00:00") for m in range(8, 13)],
    *[("B01001-03", "40102", "2026-03-03T23:00:00") for _ in range(2)],
    *[("B01001-03", "351", "2025-01-15T12:00:00") for _ in range(2)],  # previous period
    *[("B01002-01", "551", f"2026-0{m}-20T09:00:00") for m in range(1, 4)],
    ("B01002-01", "70201", "2026-02-14T22:00:00"),
    ("B03001-03", "551", "2025-09-09T09:00:00"),
]


def _points(db: Session) -> dict[str, tuple[float, float]]:
    rows = db.execute(
        text(
            "SELECT code, ST_X(p), ST_Y(p) FROM "
            "(SELECT code, ST_PointOnSurface(geom) AS p FROM micro_barrio) s"
        )
    ).all()
    return {code: (x, y) for code, x, y in rows}


def make_complaints(db: Session, cases: list[tuple[str, str, str]], *, prefix: str) -> None:
    points = _points(db)
    rows = [
        {
            "external_ref": f"{prefix}-{i}",
            "source": "carabineros",
            "category": category,
            "occurred_at": occurred,
            "lon": points[unit][0],
            "lat": points[unit][1],
            "precision": "exact",
        }
        for i, (unit, category, occurred) in enumerate(cases)
    ]
    import_complaints(db, rows, loaded_by="pruebas")
    db.commit()


@pytest.fixture
def planner(db: Session) -> dict[str, str]:
    return make_auth_headers(make_key(db, role=Role.PLANNER))


@pytest.fixture
def data(db: Session) -> None:
    make_complaints(db, CASES, prefix="R")


def compute(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(URL, json={**BODY, **overrides}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def snapshots(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(RankingSnapshot)) or 0


@pytest.mark.usefixtures("data")
def test_compute_returns_every_unit_with_raw_normalised_and_contributions(
    client: TestClient, planner: dict[str, str], openapi: dict[str, Any]
) -> None:
    response = client.post(URL, json=BODY, headers=planner)

    assert response.status_code == 201, response.text
    assert_matches_schema(openapi, URL, "post", response)
    body = response.json()
    assert body["level"] == "micro_barrio"
    assert body["comuna"] == "14103"
    assert body["period"] == {"start": "2025-07-01", "end": "2026-06-30"}
    assert body["profile"]["name"] == "vigia-micro-barrio"
    assert body["profile"]["version"] == 2
    assert body["profile"]["weights"]["dmcs_rate"] == 30.0
    assert len(body["units"]) == 19
    assert [u["rank"] for u in body["units"]] == list(range(1, 20))
    first = body["units"][0]
    assert first["code"] == "B01001-03"
    assert set(first["raw"]) == set(body["profile"]["weights"])
    assert sum(first["contributions"].values()) == pytest.approx(first["score"], abs=1e-4)
    assert "dmcs_rate" in first["top_variables"]
    assert first["population_estimated"] is True
    assert isinstance(first["population"], int)
    # method 2: every variable says whether it carried signal; every unit has its intervals
    method = body["method"]
    assert method["version"] == "2"
    assert set(method["signal"]) == set(body["profile"]["weights"])
    silent = [n for n, t in method["signal"].items() if not t["signal"]]
    weights = body["profile"]["weights"]
    assert method["weight_without_signal"] == pytest.approx(
        100 * sum(weights[n] for n in silent) / sum(weights.values()), abs=1e-6
    )
    for unit in body["units"]:
        assert all(unit["contributions"][n] == 0 for n in silent)
        spread = unit["uncertainty"]
        assert 1 <= spread["rank_low"] <= spread["rank_high"] <= 19
        assert sum(spread["class_probability"].values()) == pytest.approx(1.0, abs=1e-6)
        assert spread["dmcs_rate_low"] <= spread["dmcs_rate_high"]


@pytest.mark.usefixtures("data")
def test_counts_follow_the_period_in_chile_time(
    client: TestClient, planner: dict[str, str], db: Session
) -> None:
    body = compute(client, planner)

    stored = db.get(RankingSnapshot, body["id"])
    assert stored is not None
    columns = stored.inputs["columns"]
    row = dict(zip(columns, stored.inputs["units"]["B01001-03"], strict=True))
    # 6 robos con violencia + 5 robos en lugar habitado this period; 2 violent ones before
    assert row["dmcs_count"] == 11
    assert row["dmcs_count_prev"] == 2
    assert row["violent_count"] == 6
    assert row["drug_trafficking_count"] == 2
    assert row["total_count"] == 13
    other = dict(zip(columns, stored.inputs["units"]["B01002-01"], strict=True))
    assert other["drug_consumption_count"] == 1


@pytest.mark.usefixtures("data")
def test_same_data_profile_and_period_give_the_same_fingerprints_and_numbers(
    client: TestClient, planner: dict[str, str], db: Session
) -> None:
    first = compute(client, planner)
    second = compute(client, planner)

    assert first["id"] != second["id"]
    assert first["input_fingerprint"] == second["input_fingerprint"]
    assert first["result_fingerprint"] == second["result_fingerprint"]
    assert first["units"] == second["units"]

    make_complaints(db, [("B03001-03", "351", "2026-05-01T12:00:00")], prefix="LATE")
    third = compute(client, planner)

    assert third["input_fingerprint"] != first["input_fingerprint"]
    assert third["result_fingerprint"] != first["result_fingerprint"]


@pytest.mark.usefixtures("data")
def test_recompute_from_stored_inputs_matches_even_after_late_complaints(
    client: TestClient, planner: dict[str, str], db: Session, openapi: dict[str, Any]
) -> None:
    cited = compute(client, planner)
    make_complaints(db, [("B01002-01", "351", "2026-04-01T12:00:00")], prefix="LATE")

    response = client.post(f"{URL}/{cited['id']}/recompute", headers=planner)

    assert response.status_code == 200, response.text
    assert_matches_schema(openapi, f"{URL}/{{snapshot_id}}/recompute", "post", response)
    check = response.json()
    assert check["matches"] is True
    assert check["input_fingerprint"]["recomputed"] == cited["input_fingerprint"]
    assert check["result_fingerprint"]["recomputed"] == cited["result_fingerprint"]
    assert check["differences"] == []
    assert check["current_data"]["matches"] is False  # the late complaint changes today's data


@pytest.mark.usefixtures("data")
def test_recompute_reports_a_tampered_number(
    client: TestClient, planner: dict[str, str], db: Session
) -> None:
    cited = compute(client, planner)
    db.execute(
        text(
            "UPDATE ranking_unit_result SET score = score + 1 "
            "WHERE snapshot_id = :id AND unit_code = 'B01001-03'"
        ),
        {"id": cited["id"]},
    )
    db.commit()

    check = client.post(f"{URL}/{cited['id']}/recompute", headers=planner).json()

    assert check["matches"] is False
    assert check["current_data"]["matches"] is True
    assert [(d["unit"], d["field"]) for d in check["differences"]] == [("B01001-03", "score")]


@pytest.mark.usefixtures("data")
def test_read_by_id_and_latest_in_json_geojson_and_csv(
    client: TestClient, db: Session, openapi: dict[str, Any]
) -> None:
    planner = make_auth_headers(make_key(db, role=Role.PLANNER))
    police = make_auth_headers(make_key(db, role=Role.POLICE, institution="carabineros"))
    older = compute(client, planner, period_end="2026-03-31")
    newest = compute(client, planner)

    by_id = client.get(f"{URL}/{older['id']}", headers=police)
    assert by_id.status_code == 200
    assert_matches_schema(openapi, f"{URL}/{{snapshot_id}}", "get", by_id)
    assert by_id.json() == older
    latest = client.get(f"{URL}/latest", params={"level": "micro_barrio"}, headers=police)
    assert latest.json()["id"] == newest["id"]

    geo = client.get(f"{URL}/{newest['id']}", params={"format": "geojson"}, headers=police)
    assert geo.status_code == 200
    assert geo.headers["content-type"].startswith("application/geo+json")
    collection = geo.json()
    assert_feature_collection(collection)
    assert collection["ranking"]["id"] == newest["id"]
    features = collection["features"]
    assert [f["properties"]["rank"] for f in features] == list(range(1, 20))
    top = features[0]["properties"]
    assert top["code"] == newest["units"][0]["code"]
    assert top["class"] == newest["units"][0]["class"]
    assert top["top_variables"] == newest["units"][0]["top_variables"]
    assert top["score"] == pytest.approx(newest["units"][0]["score"])

    table = client.get(
        f"{URL}/latest", params={"level": "micro_barrio", "format": "csv"}, headers=police
    )
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert len(rows) == 19
    assert rows[0]["code"] == newest["units"][0]["code"]
    assert float(rows[0]["raw_dmcs_rate"]) == pytest.approx(newest["units"][0]["raw"]["dmcs_rate"])
    assert {"norm_hotspot", "contrib_risk_factor_load", "gi_p_sim"} <= set(rows[0])


def test_barrio_ranking_uses_the_barrio_profile_without_gi(
    client: TestClient, planner: dict[str, str]
) -> None:
    body = compute(client, planner, level="barrio")

    assert body["profile"]["name"] == "vigia-barrio"
    assert body["profile"]["weights"]["hotspot"] == 0.0
    assert len(body["units"]) == 5
    assert all(u["contributions"]["hotspot"] == 0 for u in body["units"])


def test_missing_snapshots_are_404_problems(client: TestClient, planner: dict[str, str]) -> None:
    assert_problem(
        client.get(f"{URL}/latest", params={"level": "barrio"}, headers=planner),
        404,
        "ranking_no_encontrado",
    )
    assert_problem(
        client.get(f"{URL}/00000000-0000-0000-0000-000000000000", headers=planner),
        404,
        "ranking_no_encontrado",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"extra": 1}, "extra"),
        ({"level": "region"}, "level"),
        ({"months": 0}, "months"),
        ({"months": 61}, "months"),
        ({"comuna": "1410"}, "comuna"),
        ({"comuna": "13101"}, "comuna"),
        ({"period_end": "2099-01-31"}, "period_end"),
        ({"period_end": "31-01-2026"}, "period_end"),
        ({"profile_version": 0}, "profile_version"),
    ],
)
def test_bad_requests_name_the_field_and_write_nothing(
    client: TestClient, planner: dict[str, str], db: Session, overrides: dict, field: str
) -> None:
    body = assert_problem(client.post(URL, json={**BODY, **overrides}, headers=planner), 422)

    assert field in [e["field"] for e in body["errors"]]
    assert snapshots(db) == 0


def test_unknown_profile_version_is_404(client: TestClient, planner: dict[str, str]) -> None:
    assert_problem(
        client.post(URL, json={**BODY, "profile_version": 9}, headers=planner),
        404,
        "perfil_no_encontrado",
    )


def test_roles(client: TestClient, db: Session) -> None:
    police = make_auth_headers(make_key(db, role=Role.POLICE, institution="carabineros"))
    unit = make_auth_headers(make_key(db, role=Role.UNIT, unit="Alumbrado público"))

    assert_problem(client.post(URL, json=BODY), 401)
    assert_problem(client.post(URL, json=BODY, headers=police), 403, "sin_permiso")
    assert_problem(client.get(f"{URL}/latest", params={"level": "barrio"}), 401)
    assert_problem(
        client.get(f"{URL}/latest", params={"level": "barrio"}, headers=unit), 404
    )  # allowed to read; nothing computed yet
    assert snapshots(db) == 0


def test_open_risk_factors_feed_the_load_and_resolved_ones_do_not(
    client: TestClient, planner: dict[str, str], db: Session
) -> None:
    ids = db.execute(
        text(
            "SELECT (SELECT id FROM micro_barrio WHERE code = 'B01002-02'),"
            " (SELECT id FROM barrio WHERE code = 'B01002'),"
            " (SELECT id FROM risk_factor_type WHERE code = 'punto_consumo_via_publica')"
        )
    ).one()
    for status, resolved in (("derivado", None), ("resuelto", "2026-05-01")):
        db.execute(
            text(
                "INSERT INTO risk_factor_report (id, comuna_code, type_id, status, severity,"
                " geom, observed_at, received_at, institution, barrio_id, micro_barrio_id,"
                " resolved_at) VALUES (gen_random_uuid(), '14103', :type, :status, 5,"
                " ST_SetSRID(ST_MakePoint(-72.77, -39.45), 4326), '2026-04-01', '2026-04-01',"
                " 'carabineros', :barrio, :micro, CAST(:resolved AS timestamptz))"
            ),
            {
                "type": ids[2],
                "status": status,
                "barrio": ids[1],
                "micro": ids[0],
                "resolved": resolved,
            },
        )
    db.commit()

    body = compute(client, planner, profile_version=1)  # method 1: today's status, overdue

    loads = {u["code"]: u["raw"]["risk_factor_load"] for u in body["units"]}
    # weight 1.0 * severity 5/5 * (1 + overdue (90 days open / 30 expected - 1 = 2, capped 2))
    assert loads["B01002-02"] == pytest.approx(3.0)
    assert sum(loads.values()) == pytest.approx(3.0)


def test_method_2_reads_each_factor_status_at_the_end_of_the_period_from_its_timeline(
    client: TestClient, planner: dict[str, str], db: Session
) -> None:
    """Open at the end of June: counted, even if resolved or discarded later; resolved before
    the end: not counted, whatever its status today. No overdue multiplier: per 1,000 hab."""
    ids = db.execute(
        text(
            "SELECT (SELECT id FROM micro_barrio WHERE code = 'B01002-02'),"
            " (SELECT population FROM micro_barrio WHERE code = 'B01002-02'),"
            " (SELECT id FROM barrio WHERE code = 'B01002'),"
            " (SELECT id FROM risk_factor_type WHERE code = 'punto_consumo_via_publica')"
        )
    ).one()
    timelines = {  # status today, [(status, at)]
        "resuelto": [("reportado", "2026-04-01"), ("resuelto", "2026-07-15")],
        "descartado": [("reportado", "2026-04-01"), ("descartado", "2026-08-01")],
        "en_gestion": [
            ("reportado", "2026-04-01"),
            ("resuelto", "2026-05-01"),
            ("en_gestion", "2026-07-02"),
        ],  # reopened after the period: was closed
    }
    for today, steps in timelines.items():
        report = db.execute(
            text(
                "INSERT INTO risk_factor_report (id, comuna_code, type_id, status, severity,"
                " geom, observed_at, received_at, institution, barrio_id, micro_barrio_id)"
                " VALUES (gen_random_uuid(), '14103', :type, :status, 5,"
                " ST_SetSRID(ST_MakePoint(-72.77, -39.45), 4326), '2026-04-01', '2026-04-01',"
                " 'carabineros', :barrio, :micro) RETURNING id"
            ),
            {"type": ids[3], "status": today, "barrio": ids[2], "micro": ids[0]},
        ).scalar_one()
        for status, at in steps:
            db.execute(
                text(
                    "INSERT INTO report_transition (comuna_code, report_id, to_status, at)"
                    " VALUES ('14103', :report, :status, CAST(:at AS timestamptz))"
                ),
                {"report": report, "status": status, "at": at},
            )
    db.commit()

    body = compute(client, planner)

    units = {u["code"]: u for u in body["units"]}
    loads = {code: u["raw"]["risk_factor_load"] for code, u in units.items()}
    # two factors open on June 30, weight 1.0 * severity 5/5 each, per 1,000 residents
    assert loads["B01002-02"] == pytest.approx(2 * 1000 / ids[1])
    assert sum(loads.values()) == pytest.approx(loads["B01002-02"])
    stored = db.get(RankingSnapshot, body["id"])
    assert stored is not None
    row = dict(zip(stored.inputs["columns"], stored.inputs["units"]["B01002-02"], strict=True))
    assert row["risk_factor_count"] == 2
    assert row["risk_factor_overdue"] == 2  # 90 days open, 30 expected: reported apart


def test_external_variables_join_the_ranking_when_the_profile_weights_them(
    client: TestClient, planner: dict[str, str], db: Session
) -> None:
    admin = make_auth_headers(make_key(db, role=Role.ADMIN))
    codes = list(db.scalars(text("SELECT code FROM micro_barrio ORDER BY code")))
    csv_text = "unit,valor\n" + "".join(f"{c},{i / 10}\n" for i, c in enumerate(codes))
    load_external_variables(
        db, io.StringIO(csv_text), comuna="14103", level="micro_barrio", source="RSH", name="ivs"
    )
    db.commit()
    created = client.post(
        f"{URL}/profiles",
        json={"name": "con-ivs", "weights": {"dmcs_rate": 1, "ext_ivs": 1}},
        headers=admin,
    )
    assert created.status_code == 201, created.text

    body = compute(client, planner, profile="con-ivs")

    assert body["units"][0]["code"] == codes[-1]  # highest index, no complaints anywhere
    assert body["units"][0]["raw"]["ext_ivs"] == pytest.approx(1.8)
    stored = db.scalar(select(func.count()).select_from(ExternalVariable))
    assert stored == 19


def test_external_variable_missing_for_some_units_is_422(
    client: TestClient, planner: dict[str, str], db: Session
) -> None:
    load_external_variables(
        db,
        io.StringIO("unit,ivs\nB01001-01,0.5\n"),
        comuna="14103",
        level="micro_barrio",
        source="RSH",
    )
    admin = make_auth_headers(make_key(db, role=Role.ADMIN))
    client.post(
        f"{URL}/profiles",
        json={"name": "con-ivs", "weights": {"dmcs_rate": 1, "ext_ivs": 1}},
        headers=admin,
    )

    body = assert_problem(
        client.post(URL, json={**BODY, "profile": "con-ivs"}, headers=planner), 422
    )

    assert {e["field"] for e in body["errors"]} == {"ext_ivs"}
    assert len(body["errors"]) == 18
    assert snapshots(db) == 0


# --- profiles ------------------------------------------------------------------------------


def test_seeded_profiles_are_the_default_profiles(
    client: TestClient, planner: dict[str, str], db: Session
) -> None:
    from app.rankings.profiles import get_profile

    for level, profile in DEFAULT_PROFILES.items():
        stored = get_profile(db, profile.name)  # the latest version is the default
        assert stored.fingerprint() == profile.fingerprint(), level
    for profile in (BARRIO_PROFILE_V1, MICRO_BARRIO_PROFILE_V1):
        assert get_profile(db, profile.name, 1).fingerprint() == profile.fingerprint()
    listed = client.get(f"{URL}/profiles", headers=planner).json()
    assert [(p["name"], p["version"], p["method"]) for p in listed] == [
        ("vigia-barrio", 1, 1),
        ("vigia-barrio", 2, 2),
        ("vigia-micro-barrio", 1, 1),
        ("vigia-micro-barrio", 2, 2),
    ]


def test_profile_risk_factor_types_match_the_seeded_catalog(db: Session) -> None:
    catalog = set(db.scalars(text("SELECT code FROM risk_factor_type")))
    for profile in DEFAULT_PROFILES.values():
        assert set(profile.risk_factor_weights) == catalog


@pytest.mark.usefixtures("data")
def test_a_new_profile_version_keeps_the_old_one_and_rankings_cite_theirs(
    client: TestClient, planner: dict[str, str], db: Session, openapi: dict[str, Any]
) -> None:
    admin = make_auth_headers(make_key(db, role=Role.ADMIN))
    old = compute(client, planner)
    weights = {**old["profile"]["weights"], "dmcs_rate": 60.0}

    response = client.post(
        f"{URL}/profiles",
        json={"name": "vigia-micro-barrio", "weights": weights, "description": "más DMCS"},
        headers=admin,
    )

    assert response.status_code == 201, response.text
    assert_matches_schema(openapi, f"{URL}/profiles", "post", response)
    created = response.json()
    assert created["version"] == 3
    assert created["risk_factor_weights"]["luminaria_apagada"] == 1.0  # copied from v2
    assert (created["method"], created["smoothing"]) == (2, "global")
    new = compute(client, planner)
    assert new["profile"] == {"name": "vigia-micro-barrio", "version": 3, "weights": weights}
    again_v2 = compute(client, planner, profile_version=2)
    assert again_v2["result_fingerprint"] == old["result_fingerprint"]
    assert client.post(f"{URL}/{old['id']}/recompute", headers=planner).json()["matches"]


@pytest.mark.usefixtures("data")
def test_a_method_1_ranking_still_recomputes_and_verifies_under_method_1(
    client: TestClient, planner: dict[str, str]
) -> None:
    old = compute(client, planner, profile_version=1)

    assert old["method"] == {
        "version": "1",
        "signal": None,
        "weight_without_signal": None,
        "signal_summary": None,
    }
    assert all(u["uncertainty"] is None for u in old["units"])
    check = client.post(f"{URL}/{old['id']}/recompute", headers=planner).json()
    assert check["matches"], check["differences"]
    assert check["current_data"]["matches"]


def test_invalid_profiles_are_422_and_write_nothing(client: TestClient, db: Session) -> None:
    admin = make_auth_headers(make_key(db, role=Role.ADMIN))
    before = db.scalar(select(func.count()).select_from(ScoringProfileRow))
    cases = [
        ({"name": "x", "weights": {"dmcs_rate": -1}}, "weights.dmcs_rate"),
        ({"name": "x", "weights": {"no_existe": 1}}, "weights.no_existe"),
        ({"name": "x", "weights": {"dmcs_rate": 0}}, "weights"),
        ({"name": "X Y", "weights": {"dmcs_rate": 1}}, "name"),
        ({"name": "x", "weights": {"dmcs_rate": 1}, "otro": 1}, "otro"),
        ({"name": "x", "weights": {"dmcs_rate": 1}, "inverted": ["hotspot"]}, "inverted"),
    ]
    for body, field in cases:
        problem = assert_problem(client.post(f"{URL}/profiles", json=body, headers=admin), 422)
        assert field in [e["field"] for e in problem["errors"]], (body, problem)
    assert db.scalar(select(func.count()).select_from(ScoringProfileRow)) == before


def test_only_admins_create_profiles(client: TestClient, planner: dict[str, str]) -> None:
    body = {"name": "x", "weights": {"dmcs_rate": 1}}
    assert_problem(client.post(f"{URL}/profiles", json=body, headers=planner), 403)


def test_profiles_are_append_only_in_the_database(db: Session) -> None:
    with pytest.raises(DBAPIError, match="solo inserción"), db.begin_nested():
        db.execute(text("UPDATE scoring_profile SET description = 'otra'"))


def test_stored_results_are_one_row_per_unit(
    client: TestClient, planner: dict[str, str], db: Session
) -> None:
    body = compute(client, planner, period_end=date(2026, 6, 30).isoformat())
    rows = db.scalar(
        select(func.count())
        .select_from(RankingUnitResult)
        .where(RankingUnitResult.snapshot_id == body["id"])
    )
    assert rows == 19
