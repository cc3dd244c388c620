"""Does requirements.lock cover pyproject.toml? (scripts/bootstrap.sh runs it before
installing; `make lock` refreshes the lock.)

    python scripts/check_lock.py [pyproject.toml] [requirements.lock]

Every dependency of the project and of its `dev` extra must be pinned in the lock, at a
version its range accepts. A dependency added to pyproject.toml without `make lock`, or a
range moved past the pin, stops the install with a message saying so, instead of letting a
fresh machine install something no one locked. Standard library only, plus the `packaging`
that pip itself vendors (a new virtualenv has nothing else yet).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

try:
    from packaging.requirements import Requirement
except ImportError:  # a bare virtualenv: pip's own copy
    from pip._vendor.packaging.requirements import Requirement

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def problems(pyproject: Path, lock: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    wanted = [
        *project.get("dependencies", []),
        *project.get("optional-dependencies", {}).get("dev", []),
    ]
    pins: dict[str, set[str]] = {}
    for name, version in PIN.findall(lock.read_text(encoding="utf-8")):
        pins.setdefault(normalise(name), set()).add(version)
    found = []
    for line in wanted:
        requirement = Requirement(line)
        versions = pins.get(normalise(requirement.name))
        if not versions:
            found.append(f"{requirement.name}: no está en {lock.name}")
        elif not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
            found.append(
                f"{requirement.name}: {lock.name} fija {', '.join(sorted(versions))}, "
                f"fuera de {requirement.specifier}"
            )
    return found


def main() -> int:
    pyproject = Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")
    lock = Path(sys.argv[2] if len(sys.argv) > 2 else "requirements.lock")
    if not lock.exists():
        print(f"falta {lock}: ejecute `make lock`", file=sys.stderr)
        return 1
    found = problems(pyproject, lock)
    if found:
        print(
            f"{lock} está desactualizado respecto de {pyproject}:\n  "
            + "\n  ".join(found)
            + "\nEjecute `make lock` (vuelve a resolver y fija versiones con hashes) y confirme "
            f"{lock} junto con {pyproject}.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
