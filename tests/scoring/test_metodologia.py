"""docs/metodologia.md shows what the code computes: its worked example is regenerated here."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from tests.scoring.factories import REPO


def load_script() -> ModuleType:
    path = REPO / "scripts" / "metodologia_ejemplo.py"
    spec = importlib.util.spec_from_file_location("metodologia_ejemplo", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_worked_example_in_the_doc_matches_the_code() -> None:
    script = load_script()

    assert script.DOC.read_text() == script.expected_doc(), (
        "docs/metodologia.md está desactualizado: .venv/bin/python "
        "scripts/metodologia_ejemplo.py --write"
    )


def test_worked_example_ranks_all_19_micro_barrios() -> None:
    ranking, _, _ = load_script().run()

    assert len(ranking.table) == 19
    assert ranking.table.index[0] == "B01001-03"
    assert ranking.table["gi_hot"].sum() == 1


def test_method_2_example_states_the_weight_without_signal_and_the_intervals() -> None:
    ranking, _ = load_script().run_v2()

    meta = ranking.method_meta
    assert len(ranking.table) == 19
    assert meta["weight_without_signal"] > 0  # the example shows a silent variable's weight
    silent = [name for name, test in meta["signal"].items() if not test["signal"]]
    assert (ranking.table[[f"contrib_{name}" for name in silent]] == 0).all().all()
    assert (ranking.table["rank_low"] <= ranking.table["rank"]).all()
    assert (ranking.table["rank"] <= ranking.table["rank_high"]).all()


def test_the_signal_sentence_says_when_no_variable_can_prioritise() -> None:
    from app.rankings.wording import signal_phrase  # noqa: PLC0415

    signal = {"dmcs_rate": {"signal": False}, "risk_factor_load": {"signal": False}}
    none_left = signal_phrase({"signal": signal, "weight_without_signal": 100.0})
    some_left = signal_phrase({"signal": signal, "weight_without_signal": 40.0})

    assert none_left is not None
    assert "no sirve para priorizar" in none_left
    assert some_left is not None
    assert some_left.startswith("De 100 puntos, 40 corresponden")
