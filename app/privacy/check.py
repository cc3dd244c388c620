"""Scanning what a public endpoint returned for anything DOMAIN.md's privacy rules forbid.

`scan(endpoint, body, rules)` is a pure function over one response body, so a test can feed
it a deliberately leaky output; `vigia privacy check` feeds it every public endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.privacy.thresholds import GENERAL_THRESHOLD, PUBLIC_DECIMALS, SENSITIVE_THRESHOLD

# keys whose presence (with a value) is a leak in any public output
FREE_TEXT_KEYS = frozenset({"description", "address", "note", "notes", "comment", "comments"})
IDENTIFIER_KEYS = frozenset(
    {
        "officer_id",
        "loaded_by",
        "external_ref",
        "reporting_unit",
        "reporter_key_id",
        "actor",
        "actor_name",
        "key_id",
        "account_id",
        "email",
        "phone",
    }
)
BELOW_COMUNA_KEYS = frozenset({"barrio", "micro_barrio", "unit", "cuadrante"})
_SMALL = re.compile(r"^<\d+$")


@dataclass(frozen=True)
class Rules:
    max_decimals: int = PUBLIC_DECIMALS
    general_threshold: int = GENERAL_THRESHOLD
    sensitive_threshold: int = SENSITIVE_THRESHOLD
    sensitive_codes: frozenset[str] = frozenset()  # category and family codes
    exact_points: frozenset[tuple[float, float]] = frozenset()  # rounded to max_decimals
    unit_names: frozenset[str] = frozenset()  # published unit names: not free text


@dataclass(frozen=True)
class Violation:
    endpoint: str
    path: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.endpoint} {self.path}: {self.rule} ({self.detail})"


@dataclass
class _Walk:
    endpoint: str
    rules: Rules
    found: list[Violation] = field(default_factory=list)

    def add(self, path: str, rule: str, detail: str) -> None:
        self.found.append(Violation(self.endpoint, path or "$", rule, detail))


def _positions(coords: Any) -> Iterator[tuple[float, float]]:
    if (
        isinstance(coords, list)
        and len(coords) >= 2
        and all(isinstance(c, int | float) for c in coords[:2])
    ):
        yield float(coords[0]), float(coords[1])
    elif isinstance(coords, list):
        for c in coords:
            yield from _positions(c)


def _decimals(value: float) -> int:
    text = repr(value)
    if "e" in text or "E" in text:
        return 99
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def _in_sensitive_context(node: dict[str, Any], rules: Rules) -> bool:
    for key in ("category", "family", "category_code", "family_code", "service_code"):
        if str(node.get(key)) in rules.sensitive_codes:
            return True
    return node.get("sensitive") is True


def _check_geometry(walk: _Walk, path: str, geometry: dict[str, Any]) -> None:
    for lon, lat in _positions(geometry.get("coordinates")):
        if max(_decimals(lon), _decimals(lat)) > walk.rules.max_decimals:
            walk.add(path, "coordenada demasiado precisa", f"{lon}, {lat}")
        key = (round(lon, walk.rules.max_decimals), round(lat, walk.rules.max_decimals))
        if key in walk.rules.exact_points:
            walk.add(path, "punto exacto de una denuncia o factor", f"{lon}, {lat}")


# Nodes that describe one event (a complaint, a risk factor, an Open311 request, a council
# session or prevention activity of the plan): free text there was typed about people and
# places. Catalog descriptions elsewhere are not.
RECORD_MARKERS = (
    "service_request_id",
    "reported_month",
    "occurred_at",
    "observed_at",
    "held_on",
)


def _visit(walk: _Walk, path: str, node: Any, sensitive: bool, record: bool = False) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            _visit(walk, f"{path}[{i}]", item, sensitive, record)
        return
    if not isinstance(node, dict):
        return
    record = record or node.get("type") == "Feature" or any(m in node for m in RECORD_MARKERS)
    rules = walk.rules
    properties = node.get("properties") if node.get("type") == "Feature" else None
    here_sensitive = (
        sensitive
        or _in_sensitive_context(node, rules)
        or (isinstance(properties, dict) and _in_sensitive_context(properties, rules))
    )
    # points locate events; polygons and lines here are published unit boundaries
    if node.get("type") in {"Point", "MultiPoint"}:
        _check_geometry(walk, path, node)
    if here_sensitive and node.get("type") == "Feature":
        walk.add(path, "punto de categoría sensible", "las categorías sensibles no van en mapas")
    for key, value in node.items():
        child = f"{path}.{key}"
        if value in (None, "", [], {}):
            continue
        if (
            record
            and key in FREE_TEXT_KEYS
            and isinstance(value, str)
            and value not in rules.unit_names
        ):
            walk.add(child, "texto libre", value[:40])
        if key in IDENTIFIER_KEYS:
            walk.add(child, "identificador de funcionario o caso", str(value)[:40])
        if here_sensitive and key in BELOW_COMUNA_KEYS:
            walk.add(child, "categoría sensible bajo el nivel comunal", str(value))
        if key in ("count", "total") or key.endswith("_count") or key.endswith("_total"):
            strict = here_sensitive or key.startswith("sensitive")
            threshold = rules.sensitive_threshold if strict else rules.general_threshold
            if isinstance(value, int) and not isinstance(value, bool) and 0 < value < threshold:
                walk.add(child, "conteo pequeño sin suprimir", f"{value} < {threshold}")
            if isinstance(value, str) and _SMALL.match(value):
                shown = int(value[1:])
                if shown < threshold:  # "<3" where "<5" is due reveals 1..2
                    walk.add(child, "umbral de supresión insuficiente", value)
        child_sensitive = here_sensitive or key.startswith("sensitive")
        _visit(walk, child, value, child_sensitive, record)


def scan(endpoint: str, body: Any, rules: Rules) -> list[Violation]:
    """Every privacy-rule violation in one public response body."""
    walk = _Walk(endpoint, rules)
    _visit(walk, "$", body, False)
    return walk.found
