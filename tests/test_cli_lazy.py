"""`vigia` imports only the subcommand it runs: help and key commands never load the ranking's
statistics or the PDF renderer (seconds of import on every cron call otherwise)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from app.cli import SUBCOMMANDS, cli

HEAVY = ("esda", "libpysal", "weasyprint", "matplotlib", "scipy", "geopandas")

PROBE = """
import json, sys
from typer.testing import CliRunner
from app.cli import cli
result = CliRunner().invoke(cli, sys.argv[1:])
print(json.dumps({"exit": result.exit_code, "out": result.output,
                  "modules": sorted(m.split(".")[0] for m in sys.modules)}))
"""


def _run(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_imports_no_subcommand() -> None:
    run = _run("--help")
    assert run["exit"] == 0
    for name in SUBCOMMANDS:
        assert name in str(run["out"])
    modules = set(run["modules"])  # type: ignore[arg-type]
    assert not modules & {*HEAVY, "sqlalchemy", "fastapi"}, modules & {*HEAVY, "sqlalchemy"}


@pytest.mark.parametrize("command", [["apikey", "--help"], ["db", "--help"], ["audit", "--help"]])
def test_light_commands_do_not_load_statistics_or_pdf(command: list[str]) -> None:
    run = _run(*command)
    assert run["exit"] == 0, run["out"]
    loaded = set(run["modules"]) & set(HEAVY)  # type: ignore[arg-type]
    assert not loaded


def test_every_registered_subcommand_loads_and_keeps_its_help() -> None:
    runner = CliRunner()
    for name, entry in SUBCOMMANDS.items():
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert entry.help.split("`")[0].split()[0] in result.output


def test_unknown_subcommand_is_refused() -> None:
    result = CliRunner().invoke(cli, ["nada"])
    assert result.exit_code == 2


# What `vigia apikey list` must not import: the geometry stack every other model pulls in
# (GeoAlchemy2, shapely, numpy) and the audit trail's signing (a read records nothing).
NOT_FOR_KEYS = ("geoalchemy2", "shapely", "numpy", "cryptography")


def test_apikey_list_loads_only_the_key_model(engine: object, database_url: str) -> None:
    probe = PROBE.replace(
        '"modules": sorted(m.split(".")[0] for m in sys.modules)',
        ('"modules": sorted(m for m in sys.modules)'),
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "apikey", "list", "--all"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "VIGIA_DATABASE_URL": database_url},
    )
    run = json.loads(done.stdout.strip().splitlines()[-1])
    assert run["exit"] == 0, run["out"]
    assert "Claves de acceso" in run["out"]
    modules = set(run["modules"])
    assert not {m.split(".")[0] for m in modules} & set(NOT_FOR_KEYS)
    assert not {m for m in modules if m.startswith(("app.models.", "app.audit"))} - {
        "app.models.api_key",
        "app.models.base",
    }
