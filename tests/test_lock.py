"""requirements.lock covers pyproject.toml, and a stale lock is caught (scripts/check_lock.py,
which scripts/bootstrap.sh runs before installing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

CHECK = REPO / "scripts" / "check_lock.py"


def check(pyproject: Path, lock: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), str(pyproject), str(lock)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_committed_lock_covers_pyproject_with_hashes() -> None:
    lock = REPO / "requirements.lock"
    assert check(REPO / "pyproject.toml", lock).returncode == 0
    text = lock.read_text()
    pinned = [line for line in text.splitlines() if "==" in line and not line.startswith("#")]
    assert len(pinned) > 50
    assert text.count("--hash=sha256:") >= len(pinned)  # every pin carries its hashes


def test_a_dependency_added_without_make_lock_stops_the_install(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    source = (REPO / "pyproject.toml").read_text()
    pyproject.write_text(source.replace('"httpx>=0.27",', '"httpx>=0.27",\n    "tomli-w>=1",'))
    result = check(pyproject, REPO / "requirements.lock")
    assert result.returncode == 1
    assert "tomli-w: no está en requirements.lock" in result.stderr
    assert "make lock" in result.stderr


def test_a_range_moved_past_the_pin_stops_the_install(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    source = (REPO / "pyproject.toml").read_text()
    pyproject.write_text(source.replace('"httpx>=0.27",', '"httpx>=99",'))
    result = check(pyproject, REPO / "requirements.lock")
    assert result.returncode == 1
    assert "httpx: requirements.lock fija" in result.stderr
    assert "fuera de >=99" in result.stderr
