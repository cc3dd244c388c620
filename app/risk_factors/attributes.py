"""Per-type extra attributes: the catalog's small field language and the check on submission.

A type's `attributes_schema` maps an attribute code to a spec:
    {"type": "integer" | "number" | "string" | "boolean" | "enum",
     "label": str, "required": bool, "min": n, "max": n, "max_length": n, "values": [...]}
"""

from __future__ import annotations

import math
from typing import Any

from app.errors import FieldProblem

KINDS = ("integer", "number", "string", "boolean", "enum")


def check_schema(schema: Any) -> list[FieldProblem]:
    """Problems with an attributes schema an admin wants to store."""
    problems: list[FieldProblem] = []
    if not isinstance(schema, dict):
        return [{"field": "attributes_schema", "reason": "debe ser un objeto JSON"}]
    for code, spec in schema.items():
        field = f"attributes_schema.{code}"
        if not isinstance(spec, dict):
            problems.append({"field": field, "reason": "cada atributo debe ser un objeto"})
            continue
        unknown = set(spec) - {"type", "label", "required", "min", "max", "max_length", "values"}
        if unknown:
            problems.append(
                {"field": field, "reason": f"claves no reconocidas: {', '.join(sorted(unknown))}"}
            )
        if spec.get("type") not in KINDS:
            problems.append(
                {"field": field, "reason": f"'type' debe ser uno de: {', '.join(KINDS)}"}
            )
        if spec.get("type") == "enum" and not (
            isinstance(spec.get("values"), list)
            and spec["values"]
            and all(isinstance(v, str) for v in spec["values"])
        ):
            problems.append(
                {"field": field, "reason": "un enum necesita 'values': lista de textos"}
            )
    return problems


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_one(spec: dict[str, Any], value: Any) -> str | None:
    kind = spec.get("type")
    if kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        return "debe ser un número entero"
    if kind == "number" and not _number(value):
        return "debe ser un número"
    if kind == "boolean" and not isinstance(value, bool):
        return "debe ser verdadero o falso"
    if kind in ("string", "enum") and not isinstance(value, str):
        return "debe ser texto"
    if kind == "enum" and value not in spec.get("values", []):
        return f"valor no permitido; se espera uno de: {', '.join(spec.get('values', []))}"
    if kind in ("integer", "number"):
        if "min" in spec and value < spec["min"]:
            return f"debe ser mayor o igual que {spec['min']}"
        if "max" in spec and value > spec["max"]:
            return f"debe ser menor o igual que {spec['max']}"
    if kind == "string" and len(value) > spec.get("max_length", 200):
        return f"debe tener como máximo {spec.get('max_length', 200)} caracteres"
    return None


def validate_attributes(schema: dict[str, Any], values: dict[str, Any]) -> list[FieldProblem]:
    """Problems with a submission's `attributes` for its type (empty list = fine)."""
    problems: list[FieldProblem] = []
    for code in sorted(set(values) - set(schema)):
        allowed = ", ".join(sorted(schema)) or "ninguno"
        problems.append(
            {
                "field": f"attributes.{code}",
                "location": "body",
                "reason": f"atributo no definido para este tipo (se aceptan: {allowed})",
            }
        )
    for code, spec in schema.items():
        if code not in values or values[code] is None:
            if spec.get("required"):
                problems.append(
                    {"field": f"attributes.{code}", "location": "body", "reason": "obligatorio"}
                )
            continue
        reason = _check_one(spec, values[code])
        if reason:
            problems.append({"field": f"attributes.{code}", "location": "body", "reason": reason})
    return problems
