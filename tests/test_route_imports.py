"""Routes import services and the shell, never another route module (issue 14).

Only the assembly (app/main.py, app/api/routers.py) imports route modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
ASSEMBLY = {APP / "main.py", APP / "api" / "routers.py"}


def _is_route_module(dotted: str) -> bool:
    last = dotted.rsplit(".", 1)[-1]
    return last == "routes" or last.endswith("_routes")


def _imported(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_module_but_the_assembly_imports_a_route_module() -> None:
    offenders = {
        f"{path.relative_to(APP.parent)} -> {name}"
        for path in APP.rglob("*.py")
        if path not in ASSEMBLY
        for name in _imported(ast.parse(path.read_text(encoding="utf-8")))
        if name.startswith("app.") and _is_route_module(name)
    }
    assert not offenders, sorted(offenders)
