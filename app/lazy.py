"""Package names that load on first use (PEP 562), for packages whose modules are heavy.

    __getattr__ = lazy_exports(__name__, {"compute_ranking": "app.scoring.snapshot", ...})

A command that needs one light module of the package (the bulletin's phrases, a key lookup)
then does not pay for the statistics or geometry libraries its siblings import.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` that imports `homes[name]` and caches the name in `package`."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
