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

    assert script.DOC.read_text() == script._doc_with(script.render()), (
        "docs/metodologia.md está desactualizado: .venv/bin/python "
        "scripts/metodologia_ejemplo.py --write"
    )


def test_worked_example_ranks_all_19_micro_barrios() -> None:
    ranking, _, _ = load_script().run()

    assert len(ranking.table) == 19
    assert ranking.table.index[0] == "B01001-03"
    assert ranking.table["gi_hot"].sum() == 1
