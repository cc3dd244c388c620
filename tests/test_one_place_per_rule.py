"""One place per rule: the time zone, the CUT format and the bbox/comuna parameters are
defined once (app/timezone.py, app/geo/territory.py + app/api/params.py) and imported.

A scan of the source, not of behaviour: a second copy would work today and drift tomorrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"


def _modules() -> list[tuple[str, ast.Module]]:
    return [(str(p.relative_to(APP.parent)), ast.parse(p.read_text())) for p in APP.rglob("*.py")]


def _copies(home: str, found: list[str]) -> list[str]:
    return sorted(f for f in found if not f.startswith(home))


def test_chile_time_zone_is_named_only_in_app_timezone() -> None:
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in (
                "America/Santiago",
                "'America/Santiago'",
            ):
                found.append(f"{path}:{node.lineno}")
            if isinstance(node, ast.Name | ast.Attribute) and "ZoneInfo" in ast.unparse(node):
                found.append(f"{path}:{node.lineno}")
    assert _copies("app/timezone.py", found) == []


def test_cut_pattern_is_written_once() -> None:
    found = [
        f"{path}:{node.lineno}"
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and r"\d{5}" in node.value
    ]
    assert _copies("app/geo/territory.py", found) == []


def test_comuna_and_bbox_parameters_are_defined_once() -> None:
    names = {"ComunaFilter", "ComunaQuery", "ComunaChoice", "BboxDep", "BboxQuery", "Bbox"}
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in names for t in node.targets
            ):
                found.append(f"{path}:{node.lineno}")
            if isinstance(node, ast.FunctionDef) and node.name in ("parse_bbox", "_bbox"):
                found.append(f"{path}:{node.lineno}")
    homes = ("app/api/params.py", "app/geo/bbox.py")
    assert sorted(f for f in found if not f.startswith(homes)) == []
