"""Duplicate keys in a JSON object: RFC 8259 leaves them undefined, so Vigía refuses them.

`{"severity": 1, "severity": 5}` means 5 to one parser and 1 to another; a proxy, a log and
the service could each read a different request. Called by the body middleware
(`app.api.limits`) on every JSON body before any route parses it.
"""

from __future__ import annotations

import json
from typing import Any


def duplicate_keys(body: bytes) -> list[str]:
    """Keys that appear twice in one object of the JSON text, sorted (empty: none, or not JSON)."""
    found: set[str] = set()

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                found.add(key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(body, object_pairs_hook=pairs)
    except ValueError:
        return []
    return sorted(found)
