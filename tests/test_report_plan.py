"""The plan's goals file: transcribed objectives, indicators mapped to code, strict parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import InvalidInput
from app.reports.indicators import GOAL_REGISTRY, REGISTRY
from app.reports.plan import DEFAULT_PLAN, load_plan


def test_plan_file_has_the_reporting_goals_and_known_indicator_keys() -> None:
    plan = load_plan(DEFAULT_PLAN)
    assert plan.comuna == "14103"
    objectives = {o.code: o for o in plan.objectives}
    assert "monitoreo, reportes, evaluación" in objectives["I.2"].objective
    assert objectives["II.4"].goals[0].goal == "Difundir encuestas y estadísticas comunales."
    indicators = plan.indicators()
    keys = {i.indicator_key for i in indicators.values() if i.indicator_key}
    assert keys <= set(REGISTRY) | set(GOAL_REGISTRY)
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


# The plan's 29 metas (mission/plan-comunal-seguridad-lanco.txt): Ámbito I 3+2, Ámbito II
# 3+2+1+1, Ámbito III 2+8+2+1+1+1+2.
PLAN_GOALS = {
    "I.1": 3,
    "I.2": 2,
    "II.1": 3,
    "II.2": 2,
    "II.3": 1,
    "II.4": 1,
    "III.1": 2,
    "III.2": 8,
    "III.3": 2,
    "III.4": 1,
    "III.5": 1,
    "III.6": 1,
    "III.7": 2,
}


def test_every_one_of_the_29_metas_is_listed_and_measured() -> None:
    plan = load_plan(DEFAULT_PLAN)
    expected = {f"{o}.M{n}" for o, count in PLAN_GOALS.items() for n in range(1, count + 1)}
    assert len(expected) == 29
    assert set(plan.goals()) == expected
    assert {o.code for o in plan.objectives} == set(PLAN_GOALS)
    for goal in plan.goals().values():
        assert goal.indicators, goal.code
        for item in goal.indicators:
            assert item.code.startswith(goal.code + ".")
            assert item.indicator_key or item.manual_reason, item.code
    assert {o.ambito for o in plan.objectives} == {
        "Ámbito I: Institucionalidad",
        "Ámbito II: Informaciones",
        "Ámbito III: Prevención",
    }
    assert "IV" not in DEFAULT_PLAN.read_text(encoding="utf-8").replace("III", "")


def test_a_goal_without_indicators_must_say_why(tmp_path: Path) -> None:
    text = DEFAULT_PLAN.read_text(encoding="utf-8")
    start = text.index("      - code: II.4.M1")
    end = text.index("  - code: III.1")
    bare = text[:start] + "      - code: II.4.M1\n        goal: Difundir encuestas.\n" + text[end:]
    bad = tmp_path / "plan.yaml"
    bad.write_text(bare, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_plan(bad)
    assert any("no_indicator_reason" in e["reason"] for e in caught.value.errors)
    explained = bare.replace(
        "goal: Difundir encuestas.\n",
        "goal: Difundir encuestas.\n        no_indicator_reason: Sin encuesta comunal vigente.\n",
    )
    bad.write_text(explained, encoding="utf-8")
    assert "II.4.M1" in load_plan(bad).goals()
