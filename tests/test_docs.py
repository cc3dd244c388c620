"""The README renders as intended: every code fence closed, no section title twice."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

DOCS = [
    Path(__file__).resolve().parents[1] / "README.md",
    *sorted((Path(__file__).resolve().parents[1] / "docs").glob("*.md")),
]


def test_code_fences_are_closed() -> None:
    for doc in DOCS:
        fences = [line for line in doc.read_text().splitlines() if line.startswith("```")]
        assert len(fences) % 2 == 0, f"{doc.name}: a code fence is never closed"
        # an opening fence names no language only when it is meant to be plain text; a
        # closing one never names one: a language after a closing position means it was lost
        closers = fences[1::2]
        assert all(line.strip() == "```" for line in closers), f"{doc.name}: {closers}"


def test_section_titles_are_unique() -> None:
    for doc in DOCS:
        titles = [line for line in doc.read_text().splitlines() if re.match(r"^#{1,2} ", line)]
        twice = [t for t, n in Counter(titles).items() if n > 1]
        assert not twice, f"{doc.name}: {twice}"


def test_structure_names_every_capability_folder() -> None:
    """The README's tree is the map a newcomer reads: every folder of app/ is on it."""
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    tree = readme.split("## Estructura", 1)[1].split("\n## ", 1)[0]
    folders = [
        p.relative_to(root).as_posix() + "/"
        for p in (root / "app").rglob("__init__.py")
        for p in [p.parent]
        if p != root / "app"
    ]
    missing = [f for f in folders if f not in tree]
    assert not missing, f"carpetas sin línea en «Estructura»: {missing}"
