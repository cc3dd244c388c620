"""The shape of the house, checked: pure code stays pure and capabilities keep to their routes.

Pure: app/geo/, app/scoring/ and app/privacy's table arithmetic (check, suppression, the
interval and linked audits, linked_tables, any thresholds module) import neither FastAPI nor
SQLAlchemy, not even through another module. A capability's route module (routes.py,
*_routes.py) is imported only where routers are assembled
(app/api/routers.py, and app/main.py for the web pages and Open311).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app"
FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "geoalchemy2")
PRIVACY_PURE = (
    "check",
    "suppression",
    "interval_audit",
    "linked_tables",
    "linked_audit",
    "thresholds",
)
# where routers are assembled: /api/v1 and /ogc, and the app itself (web pages, Open311)
ASSEMBLY = ("app.api.routers", "app.main")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _app_modules() -> dict[str, Path]:
    return {_module_name(path): path for path in APP.rglob("*.py")}


def _pure_modules() -> list[str]:
    modules = _app_modules()
    pure = [
        name
        for name in modules
        if name.startswith(("app.geo.", "app.scoring."))
        or name in {f"app.privacy.{m}" for m in PRIVACY_PURE}
        or (name.startswith("app.privacy.") and "threshold" in name.rsplit(".", 1)[-1])
    ]
    return sorted(pure)


@cache
def _imports(module: str) -> frozenset[str]:
    """Every module `module` imports (at any depth of its code, lazy imports included)."""
    path = _app_modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from app.x import routes` imports the module app.x.routes
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(found)


def _loaded(module: str) -> set[str]:
    """`module` plus the app modules importing it loads: its parents and what they import."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & set(_app_modules())


def _forbidden_chain(start: str) -> list[str] | None:
    """The first import path from `start` to a forbidden package, or None."""
    seen = _loaded(start)
    stack = [[module] for module in sorted(seen)]
    while stack:
        chain = stack.pop()
        for target in sorted(_imports(chain[-1])):
            if target.split(".")[0] in FORBIDDEN:
                return [*chain, target]
            for loaded in sorted(_loaded(target)):
                if loaded not in seen:
                    seen.add(loaded)
                    stack.append([*chain, loaded])
    return None


def test_the_pure_modules_are_found() -> None:
    pure = _pure_modules()
    assert {"app.privacy.check", "app.privacy.suppression", "app.privacy.interval_audit"} <= set(
        pure
    )
    assert any(m.startswith("app.geo.") for m in pure)
    assert any(m.startswith("app.scoring.") for m in pure)


@pytest.mark.parametrize("module", _pure_modules())
def test_pure_module_imports_no_web_or_database_code(module: str) -> None:
    chain = _forbidden_chain(module)
    assert chain is None, " -> ".join(chain or [])


def test_pure_modules_load_without_web_code() -> None:
    """The same, as Python sees it, for the web framework: a third-party package may pull it.

    Not for SQLAlchemy: libpysal's I/O layer imports it by itself whenever it is installed;
    our own code is covered by the walk above.
    """
    web = ("fastapi", "starlette")
    program = (
        "import importlib, sys\n"
        f"for name in {_pure_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {web!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == []


def _is_route_module(module: str) -> bool:
    leaf = module.rsplit(".", 1)[-1]
    return module in _app_modules() and (leaf == "routes" or leaf.endswith("_routes"))


def test_only_the_assembly_imports_route_modules() -> None:
    """Routes import services and the shell, never a route module, not even their own
    capability's (tiles once took helpers from the features routes)."""
    crossings = [
        f"{importer} importa {target}"
        for importer in sorted(_app_modules())
        if importer not in ASSEMBLY
        for target in sorted(_imports(importer))
        if _is_route_module(target)
    ]
    assert crossings == [], "\n".join(crossings)


def test_the_route_modules_are_found() -> None:
    routes = [m for m in _app_modules() if _is_route_module(m)]
    assert "app.ogc.tile_routes" in routes
    assert "app.complaints.routes" in routes
    assembled = _imports("app.api.routers") | _imports("app.main")
    assert set(routes) <= assembled
