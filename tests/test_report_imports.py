"""`vigia report bulletin` loads only what the bulletin draws with: no geopandas (the maps are
matplotlib collections of shapely shapes), no FastAPI, alembic or YAML (the SPD plan's), and
WeasyPrint without leaving `ctypes.util.find_library` patched."""

from __future__ import annotations

import ctypes.util
import json
import subprocess
import sys

PROBE = """
import json, sys
import app.reports.cli, app.reports.generate, app.reports.render
print(json.dumps(sorted(m.split(".")[0] for m in sys.modules)))
"""


def test_bulletin_command_imports_nothing_it_does_not_draw_with() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "matplotlib" in modules  # the probe did import the renderer
    assert not modules & {"geopandas", "pandas", "fastapi", "alembic", "yaml"}


def test_weasyprint_import_restores_find_library() -> None:
    from app.reports.render import _import_weasyprint  # noqa: PLC0415

    real = ctypes.util.find_library
    weasyprint = _import_weasyprint()
    assert hasattr(weasyprint, "HTML")
    assert ctypes.util.find_library is real
