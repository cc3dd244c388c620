"""The project evaluation over the API (#18): design, counts, model, refusals, storage."""

from __future__ import annotations

import csv
import math
import re
from datetime import date, datetime, timedelta

import numpy as np
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.migrations import REPO_ROOT as REPO
from app.models import AuditEvent, ProjectEvaluation, ProjectStatus, ReportKind, Role, Typology
from app.reports import render
from app.reports.bulletin import build_bulletin
from app.reports.evaluation_crimes import (
    NEVER_BY_DEFAULT_FAMILIES,
    default_crimes,
    select_crimes,
)
from app.reports.period import Month, year_to_date
from app.reports.progress import build_progress, public_version
from app.scoring import intervention as iv
from app.timezone import CHILE_TZ
from tests.factories.keys import make_auth_headers, make_key
from tests.factories.tables import make_complaint, make_factor, make_project, make_resolved_history
from tests.helpers import assert_matches_schema, assert_problem

P = (-72.766572, -39.455301)  # in micro-barrio B01002-03 (Lanco town)
NEAR = (P[0], P[1] + 0.00045)  # ~50 m north: treated area (radius 100 m)
RING = (P[0], P[1] + 0.0018)  # ~200 m north: the ring (100 to 400 m)
# (unit, point, counts per 30-day bin: three for matching, three before, three after)
UNITS = {
    "B01001-01": ((-72.785306, -39.450470), [4, 6, 8, 4, 6, 8, 8, 8, 8]),  # rising like the area
    "B01001-02": ((-72.777754, -39.450704), [2, 3, 4, 2, 3, 4, 4, 4, 4]),  # rising like the area
    "B01001-05": ((-72.777509, -39.445897), [3, 4, 6, 3, 4, 6, 6, 6, 6]),  # rising like the area
    "B01001-04": ((-72.774694, -39.449885), [3, 5, 6, 3, 5, 6, 6, 6, 6]),  # rising like the area
    "B01003-05": ((-72.759930, -39.454154), [2, 4, 5, 2, 4, 5, 5, 5, 5]),  # rising like the area
    "B01003-01": ((-72.769123, -39.449449), [8, 6, 4, 8, 6, 4, 4, 4, 4]),  # falling: a poor match
    "B03001-01": ((-72.511981, -39.542169), [2, 3, 4, 2, 3, 4, 4, 4, 4]),  # Malalhue: other town
}
TREATED_BINS = [2, 3, 4, 2, 3, 4, 1, 1, 1]
RING_BINS = [2, 2, 2, 2, 2, 2, 3, 3, 3]
EVENT = datetime(2025, 4, 1, tzinfo=CHILE_TZ)  # the day after the end date
URL = "/api/v1/projects/{}/evaluation"


def night(day: datetime) -> datetime:
    return day.replace(hour=22)


def _place(
    db: Session,
    point: tuple[float, float],
    bins: list[int],
    *,
    days: float = 30,
    after: int = 3,
    **kw: object,
) -> None:
    """`bins` counts in consecutive bins of `days`, the last `after` after the event (at
    night)."""
    start = EVENT - timedelta(days=days * (len(bins) - after))
    for b, n in enumerate(bins):
        for i in range(n):
            when = night(start + timedelta(days=days * b + 2 + i))
            make_complaint(db, occurred_at=when, lon=point[0], lat=point[1], **kw)  # type: ignore[arg-type]


def _project(db: Session, *, end: date = date(2025, 3, 31), at: tuple[float, float] = P) -> int:
    project = make_project(
        db,
        name="Luminarias B01002",
        status=ProjectStatus.TERMINADO,
        start=date(2025, 1, 10),
        end=end,
    )
    resolved = datetime.combine(end, datetime.min.time(), tzinfo=CHILE_TZ)
    make_factor(
        db,
        type_code="luminaria_apagada",
        lon=at[0],
        lat=at[1],
        received_at=resolved - timedelta(days=80),
        history=make_resolved_history(
            resolved - timedelta(days=79), resolved - timedelta(days=78), resolved
        ),
        project_id=project.id,
    )
    return project.id


@pytest.fixture
def lit(db: Session) -> int:
    return planted_project(db)


def planted_project(db: Session) -> int:
    """An IL project with a planted series: rising before, lower after, ring up a little."""
    project_id = _project(db)
    _place(db, NEAR, TREATED_BINS)
    _place(db, RING, RING_BINS)
    for point, bins in UNITS.values():
        _place(db, point, bins)
    # not counted by default: by day (lighting counts nights), intrafamily violence
    make_complaint(db, occurred_at=EVENT - timedelta(days=10, hours=-12), lon=NEAR[0], lat=NEAR[1])
    make_complaint(
        db, occurred_at=night(EVENT - timedelta(days=9)), lon=NEAR[0], lat=NEAR[1], category="651"
    )
    db.flush()
    return project_id


def _get(client: TestClient, db: Session, url: str, role: Role = Role.PLANNER) -> Response:
    return client.get(url, headers=make_auth_headers(make_key(db, role=role)))


def test_design_counts_the_relevant_crimes_and_matches_by_trend_in_the_same_town(
    client: TestClient, db: Session, lit: int, openapi: dict
) -> None:
    url = URL.format(lit) + "?radius_m=100&catchment_m=300&window_days=90"
    response = _get(client, db, url, Role.POLICE)
    assert response.status_code == 200, response.text
    assert_matches_schema(openapi, "/api/v1/projects/{project_id}/evaluation", "get", response)
    e = response.json()
    assert (e["treated_before"], e["treated_after"]) == (9, 3)  # no daytime, no VIF case
    assert (e["catchment_before"], e["catchment_after"]) == (6, 9)
    assert e["hours"].startswith("solo de noche")
    assert "651" not in e["categories"]
    assert e["categories_source"] == "tabla"
    chosen = {c["unit"] for c in e["comparison_units"]}
    # the five rising ones of Lanco: not the falling one, not Malalhue's
    assert chosen == {"B01001-01", "B01001-02", "B01001-04", "B01001-05", "B01003-05"}
    assert all(c["same_settlement"] for c in e["comparison_units"])
    assert e["inputs"]["counts"]["tratada"] == TREATED_BINS
    assert e["inputs"]["counts"]["B03001-01"] == UNITS["B03001-01"][1]
    assert e["inputs"]["same_settlement"]["B03001-01"] is False
    assert e["bins_per_period"] == 3
    assert e["matched_on"] == "historia"
    assert len(e["input_fingerprint"]) == 64


def test_model_estimate_is_statsmodels_on_the_same_table(
    client: TestClient, db: Session, lit: int
) -> None:
    e = _get(client, db, URL.format(lit) + "?radius_m=100&window_days=90").json()
    counts = e["inputs"]["counts"]
    comps = {c["unit"]: np.array(counts[c["unit"]]) for c in e["comparison_units"]}
    comps = {unit: series[3:] for unit, series in comps.items()}  # after the matching bins
    table = iv.did_table(np.array(counts["tratada"][3:]), comps, 3)
    t = e["treated"]
    assert t["model_family"] == "poisson"
    direct = smf.glm("y ~ C(area) + C(bin) + did", data=table, family=sm.families.Poisson()).fit()
    assert t["model_irr"] == pytest.approx(math.exp(direct.params["did"]), abs=1e-4)
    assert t["model_p"] == pytest.approx(direct.pvalues["did"], abs=1e-4)
    # 9 -> 3 with comparisons 65 -> 87: few cases, so the exact test is the headline
    assert (e["comparison_before"], e["comparison_after"]) == (65, 87)
    assert t["test"] == "exacto"
    assert e["p_value"] == t["exact_p"]
    assert e["relative_effect"] == pytest.approx(t["exact_irr"] - 1, abs=1e-3)
    assert e["verdict_code"] in {"baja", "sin_evidencia"}
    assert any("pocos casos" in c for c in e["caveats"])
    assert e["mde_text"].startswith("Con estos números")
    # treated 9 -> 3 against 65 -> 87: the WDQ of the ring (6 -> 9) by hand
    control = 87 / 65
    assert e["displacement"]["wdq"] == pytest.approx(
        (9 / 6 - control) / (3 / 9 - control), abs=1e-4
    )


def test_overrides_hours_and_categories(client: TestClient, db: Session, lit: int) -> None:
    base = URL.format(lit) + "?radius_m=100&window_days=90"
    all_day = _get(client, db, base + "&hours=todas").json()
    assert all_day["treated_before"] == 10  # the daytime case counts now
    vif = _get(client, db, base + "&hours=todas&category=651")  # one case: too few
    assert_problem(vif, 422, "evaluacion_sin_datos_suficientes")
    bad = assert_problem(_get(client, db, base + "&category=9999&hours=tarde"), 422)
    assert {p["field"] for p in bad["errors"]} == {"category", "hours"}


def test_bad_requests_are_refused_with_the_reason(
    client: TestClient, db: Session, lit: int
) -> None:
    short = assert_problem(_get(client, db, URL.format(lit) + "?window_days=30"), 422)
    assert short["errors"][0]["field"] == "window_days"
    assert "entre 90 y 730" in short["errors"][0]["reason"]
    recent = _project(db, end=date.today() - timedelta(days=40))
    too_soon = assert_problem(_get(client, db, URL.format(recent)), 422, "evaluacion_prematura")
    assert re.search(r"hoy caben (38|39) días", too_soon["errors"][0]["reason"])  # UTC/Chile
    future = _project(db, end=date.today() + timedelta(days=30))
    ahead = assert_problem(_get(client, db, URL.format(future)), 422, "evaluacion_prematura")
    assert "en el futuro" in ahead["detail"]
    nowhere = make_project(
        db, name="Sin lugar", status=ProjectStatus.TERMINADO, start=None, end=date(2025, 1, 1)
    )
    empty = _project(db, at=(-72.70, -39.40))  # far from every complaint: nothing to compare
    running = make_project(
        db, name="En curso", status=ProjectStatus.EN_EJECUCION, start=date(2025, 1, 1), end=None
    )
    db.flush()
    assert_problem(_get(client, db, URL.format(nowhere.id)), 409, "proyecto_sin_ubicacion")
    few = assert_problem(
        _get(client, db, URL.format(empty) + "?window_days=90"),
        422,
        "evaluacion_sin_datos_suficientes",
    )
    assert few["errors"][0]["field"] == "window_days"
    assert_problem(_get(client, db, URL.format(running.id)), 409, "proyecto_no_terminado")
    assert_problem(_get(client, db, URL.format(999999)), 404)
    assert_problem(client.get(URL.format(lit)), 401)
    assert db.scalar(select(func.count()).select_from(ProjectEvaluation)) == 0


def test_a_stored_evaluation_is_read_back_as_computed(
    client: TestClient, db: Session, lit: int, openapi: dict
) -> None:
    planner = make_auth_headers(make_key(db, role=Role.PLANNER))
    police = make_auth_headers(make_key(db, role=Role.POLICE))
    query = "?radius_m=100&window_days=90"
    url = f"/api/v1/projects/{lit}/evaluations{query}"
    assert_problem(client.post(url, headers=police), 403)
    created = client.post(url, headers=planner)
    assert created.status_code == 201, created.text
    stored = created.json()
    live = client.get(URL.format(lit) + query, headers=planner).json()
    assert stored["input_fingerprint"] == live["input_fingerprint"]
    assert stored["verdict"] == live["verdict"]
    assert stored["method_version"] == "evaluacion-3"
    read = client.get(f"/api/v1/projects/{lit}/evaluations/{stored['id']}", headers=police)
    assert read.status_code == 200
    assert_matches_schema(
        openapi, "/api/v1/projects/{project_id}/evaluations/{evaluation_id}", "get", read
    )
    assert read.json() == stored
    other = _project(db)
    db.flush()
    missing = client.get(f"/api/v1/projects/{other}/evaluations/{stored['id']}", headers=police)
    assert_problem(missing, 404, "evaluacion_no_encontrada")
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "project.evaluation.store")
    ).all()
    assert len(events) == 1


def test_bulletin_and_spd_report_carry_the_verdict_and_the_fdr_note(db: Session, lit: int) -> None:
    # the default windows: a year a side in 6 bins, after a year of matching bins
    year_bin = 365 / 6
    _place(db, NEAR, [3] * 12 + [1] * 6, days=year_bin, after=6)
    for point, _ in list(UNITS.values())[:5]:
        _place(db, point, [4] * 18, days=year_bin, after=6)
    other = _project(db, end=date(2025, 4, 30), at=UNITS["B01001-01"][0])  # too few: a note
    db.flush()
    may = Month(2026, 5)  # the default year after the end of both is over by then
    as_of = datetime(2026, 6, 15, tzinfo=CHILE_TZ)
    bulletin = build_bulletin(db, "14103", may, as_of=as_of)
    listed = {e.subject_id for e in bulletin.evaluation.evaluations}
    notes = " ".join(bulletin.evaluation.notes)
    assert str(lit) in listed
    assert str(other) in listed or "denuncias relevantes" in notes
    html = render.bulletin_html(bulletin)
    first = bulletin.evaluation.evaluations[0]
    assert first.verdict.split(":")[0] in html
    assert first.caveats[-1] in html
    if len(bulletin.evaluation.evaluations) > 1:
        assert "Benjamini-Hochberg" in html
    spd = build_progress(db, ReportKind.SPD, "14103", year_to_date(may), as_of=as_of)
    assert spd.evaluation is not None
    assert {e.subject_id for e in spd.evaluation.evaluations} == listed
    assert first.verdict.split(":")[0] in render.progress_html(spd)
    # the public cuenta pública names no treated area
    assert public_version(spd, families=[], total=spd.total, barrios=[]).evaluation is None


def test_default_crime_table_uses_known_codes_and_never_intrafamily_or_sexual() -> None:
    with (REPO / "data" / "categories.csv").open(encoding="utf-8") as f:
        family = {row["code"]: row["family_code"] for row in csv.DictReader(f)}
    table = default_crimes()
    assert set(table) == {t.value for t in Typology}  # every typology has its crimes
    for typology, codes in table.items():
        assert codes, typology
        assert set(codes) <= set(family), typology
        assert not {family[c] for c in codes} & NEVER_BY_DEFAULT_FAMILIES, typology
    lighting = select_crimes("IL", None, None, set(family))
    assert lighting.night_only
    assert lighting.source == "tabla"
    assert not select_crimes("AC", None, None, set(family)).night_only
    assert select_crimes("AC", ["551"], "noche", set(family)).codes == ("551",)
    with pytest.raises(InvalidInput) as caught:
        select_crimes("AC", ["551"] * 61, None, set(family))
    assert caught.value.errors[0]["field"] == "category"
