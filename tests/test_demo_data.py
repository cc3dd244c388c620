"""Synthetic complaints: deterministic, calibrated on the CEAD series, placed where people live
(the planted signal itself: tests/test_demo_planted.py)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.complaints.ingest import import_complaints
from app.demo import complaints as demo_data
from app.models import Complaint, ComplaintSource
from tests.conftest import REPO

END = date(2024, 6, 1)


@pytest.fixture(scope="module")
def sources() -> demo_data.DemoSources:
    from app.settings import TerritorySettings
    from app.territory.service import parse_territory
    from tests.conftest import LANCO_FILE, load_json

    territory = parse_territory(load_json(LANCO_FILE), TerritorySettings())
    barrios = [demo_data.BarrioShape(b.code, b.population or 0, b.geom) for b in territory.barrios]
    return demo_data.build_sources(barrios, demo_data.DemoFiles.in_directory(REPO / "data"))


def test_same_seed_same_rows_other_seed_other_rows(sources: demo_data.DemoSources) -> None:
    first = list(demo_data.generate(sources, end=END, years=1, seed=7))
    again = list(demo_data.generate(sources, end=END, years=1, seed=7))
    other = list(demo_data.generate(sources, end=END, years=1, seed=8))
    assert first == again
    assert [(r.lon, r.lat) for r in first[:50]] != [(r.lon, r.lat) for r in other[:50]]


def test_monthly_volumes_follow_the_cead_series(sources: demo_data.DemoSources) -> None:
    rows = list(demo_data.generate(sources, end=END, years=1, seed=1))
    by_month = Counter(r.occurred_at.strftime("%Y-%m") for r in rows)
    for month in (date(2023, 7, 1), date(2024, 1, 1), date(2024, 6, 1)):
        expected = sum(
            round(values.get(month, 0))
            for series, values in sources.monthly.items()
            if series in sources.leaves
        )
        extra = by_month[month.strftime("%Y-%m")] - expected
        # categories with no monthly series add a small Poisson amount on top
        assert 0 <= extra <= 3 * sum(sources.extra_monthly_mean.values()) + 5, month


def test_null_world_places_follow_population_and_stay_inside(
    sources: demo_data.DemoSources,
) -> None:
    rows = list(demo_data.generate(sources, end=END, years=2, seed=3, signal=False))
    shares = Counter()
    for row in rows:
        point = Point(row.lon, row.lat)
        owner = next(b.code for b in sources.barrios if b.geom.covers(point))
        shares[owner] += 1
    total = sum(shares.values())
    population = sum(b.population for b in sources.barrios)
    for barrio in sources.barrios:
        assert abs(shares[barrio.code] / total - barrio.population / population) < 0.05
    urban = [r for r in rows if not r.address.startswith("Sector")]
    assert urban
    assert all(r.address.split()[-1].isdigit() for r in urban)
    assert {r.precision for r in rows} <= {"exact", "street", "block", "approximate"}


def test_demo_rows_import_and_are_marked_synthetic(
    db: Session, sources: demo_data.DemoSources
) -> None:
    rows = [c.as_row() for c in demo_data.generate(sources, end=END, years=1, seed=5)]
    report = import_complaints(db, rows, loaded_by="prueba")
    assert report.inserted == len(rows)
    counts = db.execute(
        select(Complaint.source, func.count(), func.count(Complaint.barrio_id))
        .where(Complaint.external_ref.like("DEMO-5-%"))
        .group_by(Complaint.source)
    ).all()
    assert [tuple(c) for c in counts] == [(ComplaintSource.DEMO, len(rows), len(rows))]


def test_demo_risk_factors_walk_the_lifecycle(db: Session, sources: demo_data.DemoSources) -> None:
    from app.demo import risk_factors as demo_risk_factors
    from app.demo.world import simulate
    from app.models import ApiKey, ReportTransition, RiskFactorReport

    world = simulate(sources, end=END, years=1, seed=11, risk_factors=25)
    made = demo_risk_factors.submit_plan(db, world.factors, seed=11)
    assert made.submitted == 25
    reports = db.scalars(
        select(RiskFactorReport).where(RiskFactorReport.officer_id.like("DEMO-%"))
    ).all()
    assert len(reports) == 25
    assert len({r.status for r in reports}) >= 3
    history = db.scalar(
        select(func.count())
        .select_from(ReportTransition)
        .where(ReportTransition.report_id.in_([r.id for r in reports]))
    )
    assert history == 25 + made.transitions  # the submission itself is the first entry
    resolved = [r for r in reports if r.resolved_at is not None]
    assert all(r.received_at < r.resolved_at for r in resolved)
    # the database holds the plan: same statuses and resolution instants
    planned = sorted((f.status, f.resolved_at) for f in world.factors)
    assert sorted((r.status.value, r.resolved_at) for r in reports) == planned
    demo_keys = db.scalars(select(ApiKey).where(ApiKey.name.like("Datos de demostración%"))).all()
    assert demo_keys
    assert all(k.revoked_at is not None for k in demo_keys)
