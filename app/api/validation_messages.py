"""pydantic's validation errors in Spanish: one table for every way data comes in.

The JSON API (app.api.problems), the complaints file import (per-row errors) and Open311
all word the same error the same way. Pure: pydantic's error dicts in, Spanish out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Reason = str | Callable[[Mapping[str, Any]], str]


def _too_short_text(ctx: Mapping[str, Any]) -> str:
    if ctx.get("min_length") == 1:
        return "no puede estar vacío"
    return "debe tener al menos {min_length} caracteres".format(**ctx)


_DATETIME = "fecha y hora no válida (formato ISO 8601)"
_DATE = "fecha no válida (formato AAAA-MM-DD)"

# pydantic error types -> Spanish reasons ({ctx} keys are filled from the error context)
REASONS: dict[str, Reason] = {
    "missing": "campo obligatorio",
    "extra_forbidden": "campo no permitido",
    "float_parsing": "debe ser un número",
    "float_type": "debe ser un número",
    "int_parsing": "debe ser un número entero",
    "int_type": "debe ser un número entero",
    "int_from_float": "debe ser un número entero",
    "bool_parsing": "debe ser verdadero o falso",
    "bool_type": "debe ser verdadero o falso",
    "string_type": "debe ser texto",
    "string_too_short": _too_short_text,
    "string_too_long": "debe tener como máximo {max_length} caracteres",
    "string_pattern_mismatch": "no tiene el formato esperado",
    "greater_than": "debe ser mayor que {gt}",
    "greater_than_equal": "debe ser mayor o igual que {ge}",
    "less_than": "debe ser menor que {lt}",
    "less_than_equal": "debe ser menor o igual que {le}",
    "finite_number": "debe ser un número finito (no NaN ni infinito)",
    "enum": "valor no permitido; se espera uno de: {expected}",
    "literal_error": "valor no permitido; se espera uno de: {expected}",
    "datetime_parsing": (
        "fecha y hora no válida (formato ISO 8601, p. ej. 2025-06-01T21:30:00-04:00)"
    ),
    "datetime_from_date_parsing": _DATETIME,
    "datetime_type": _DATETIME,
    "date_parsing": _DATE,
    "date_type": _DATE,
    "date_from_datetime_parsing": _DATE,
    "uuid_parsing": "identificador UUID no válido",
    "uuid_type": "identificador UUID no válido",
    "json_invalid": "JSON mal formado",
    "json_type": "se esperaba JSON",
    "model_attributes_type": "se esperaba un objeto JSON",
    "dict_type": "se esperaba un objeto JSON",
    "list_type": "se esperaba una lista",
    "too_short": "debe tener al menos {min_length} elementos",
    "too_long": "debe tener como máximo {max_length} elementos",
    "union_tag_invalid": "tipo no reconocido; se espera uno de: {expected_tags}",
    "value_error": "{error}",
}


def spanish_reason(error: Mapping[str, Any]) -> str:
    """The reason of one pydantic error (an item of `ValidationError.errors()`), in Spanish."""
    fallback = str(error.get("msg", "valor no válido"))
    reason = REASONS.get(str(error.get("type", "")))
    ctx = dict(error.get("ctx") or {})
    try:
        if reason is None:
            text = fallback
        elif isinstance(reason, str):
            text = reason.format(**ctx)
        else:
            text = reason(ctx)
    except (KeyError, IndexError):
        text = fallback
    # value errors raised by our own validators already carry a Spanish message;
    # enum/literal contexts list the choices as "'a', 'b' or 'c'"
    return text.removeprefix("Value error, ").replace("' or '", "' o '")
