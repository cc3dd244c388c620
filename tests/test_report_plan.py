"""The plan's goals file: transcribed objectives, indicators mapped to code, strict parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import InvalidInput
from app.reports.indicators import REGISTRY
from app.reports.plan import DEFAULT_PLAN, load_plan


def test_plan_file_has_the_reporting_goals_and_known_indicator_keys() -> None:
    plan = load_plan(DEFAULT_PLAN)
    assert plan.comuna == "14103"
    objectives = {o.code: o for o in plan.objectives}
    assert "monitoreo, reportes, evaluación" in objectives["I.2"].objective
    assert objectives["II.4"].goals[0].goal == "Difundir encuestas y estadísticas comunales."
    indicators = plan.indicators()
    keys = {i.indicator_key for i in indicators.values() if i.indicator_key}
    assert keys <= set(REGISTRY)
    assert indicators["II.1.M2.b"].indicator_key == "risk_factors_resolved_in_time_share"
    assert indicators["II.2.M1.a"].indicator_key == "dmcs_georeferenced_share"
    assert all(i.means_of_verification for i in indicators.values())


def test_a_bad_plan_file_names_the_entry(tmp_path: Path) -> None:
    text = DEFAULT_PLAN.read_text(encoding="utf-8").replace(
        "indicator_key: spd_reports", "indicator_key: no_existe", 1
    )
    bad = tmp_path / "plan.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_plan(bad)
    fields = [e["field"] for e in caught.value.errors]
    assert any(f.startswith("objectives.1.goals.1.indicators.0") for f in fields), fields
