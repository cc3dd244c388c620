"""Loading a checked context-layer file: the comuna of every feature, then one upsert.

All or nothing: the file is checked whole (app/context/reader.py), every feature must fall
in a loaded comuna (or in the one named), and only then is anything written, inside the
caller's transaction. A feature is known by (type, source name, source id): loading the
same file again updates the rows that changed and leaves the rest untouched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoalchemy2.shape import from_shape
from sqlalchemy import bindparam, func, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, INTEGER, insert
from sqlalchemy.orm import Session

from app.context.reader import ContextFileError, ContextItem, read_context_file
from app.errors import FieldProblem, InvalidInput
from app.models.base import SRID
from app.models.context import ContextFeature, ContextLayerType
from app.territory.service import WAS_INSERTED, resolve_comuna

BATCH_ROWS = 1000
SOURCE_NAME_MAX_CHARS = 100  # the width of context_feature.source_name
UNKNOWN_TYPE = "tipo_de_capa_desconocido"
INVALID_FILE = "capa_de_contexto_invalida"

Progress = Callable[[int, int], None]


@dataclass
class ContextLoadReport:
    layer_type: str
    source_name: str
    total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    by_comuna: dict[str, int] = field(default_factory=dict)
    not_in_file: int = 0  # stored rows of this type and source that the file no longer has


def unknown_type(code: str, known: list[str], *, location: str | None = None) -> InvalidInput:
    """The one answer to a layer type that does not exist (or that the caller may not see)."""
    problem: FieldProblem = {
        "field": "type",
        "reason": f"tipo de capa desconocido {code!r}; se acepta: {', '.join(known) or '-'}",
    }
    if location:
        problem["location"] = location
    return InvalidInput(
        f"El tipo de capa de contexto {code!r} no existe.", errors=[problem], code=UNKNOWN_TYPE
    )


def check_layer_type(session: Session, code: str) -> ContextLayerType:
    found = session.get(ContextLayerType, code)
    if found is None:
        known = session.scalars(select(ContextLayerType.code).order_by(ContextLayerType.code))
        raise unknown_type(code, list(known))
    return found


def parse_context_file(path: Path, *, id_field: str | None = None) -> list[ContextItem]:
    try:
        return read_context_file(path, id_field=id_field)
    except ContextFileError as exc:
        raise InvalidInput(
            f"El archivo {path.name} tiene {len(exc.problems)} problema(s); no se escribió nada.",
            errors=exc.problems,
            code=INVALID_FILE,
        ) from exc


# The comuna that contains each feature's point on surface (a point is its own). Bind
# parameters only: the arrays carry the geometries as WKB.
_LOCATE = text(
    """
    SELECT t.i, c.code
    FROM unnest(:idx, :wkb) AS t(i, w)
    LEFT JOIN LATERAL (
        SELECT comuna.code FROM comuna
        WHERE ST_Intersects(comuna.geom, ST_PointOnSurface(ST_GeomFromWKB(t.w, :srid)))
          AND (CAST(:comuna AS text) IS NULL OR comuna.code = CAST(:comuna AS text))
        ORDER BY comuna.code LIMIT 1
    ) c ON true
    """
).bindparams(
    bindparam("idx", type_=ARRAY(INTEGER)),
    bindparam("wkb", type_=ARRAY(BYTEA)),
)


def assign_comunas(session: Session, items: list[ContextItem], comuna: str | None) -> list[str]:
    """The comuna code of every item, in order; raise InvalidInput naming each one outside."""
    located: dict[int, str | None] = {}
    for start in range(0, len(items), BATCH_ROWS):
        batch = items[start : start + BATCH_ROWS]
        rows = session.execute(
            _LOCATE,
            {
                "idx": [item.index for item in batch],
                "wkb": [item.geom.wkb for item in batch],
                "srid": SRID,
                "comuna": comuna,
            },
        )
        located.update({row.i: row.code for row in rows})
    where = f"la comuna {comuna}" if comuna else "todas las comunas cargadas"
    problems: list[FieldProblem] = [
        {
            "field": "geometry",
            "reason": f"queda fuera de {where}",
            "index": item.index,
            "code": item.source_id,
        }
        for item in items
        if located.get(item.index) is None
    ]
    if problems:
        raise InvalidInput(
            f"{len(problems)} feature(s) quedan fuera de {where}; no se escribió nada.",
            errors=problems,
            code="fuera_del_territorio",
        )
    return [str(located[item.index]) for item in items]


def _upsert(session: Session, rows: list[dict[str, Any]], report: ContextLoadReport) -> None:
    stmt: Any = insert(ContextFeature).values(rows)
    key = ["layer_type", "source_name", "source_id"]
    compared = ["comuna_code", "geom", "properties", "synthetic"]
    table = ContextFeature.__table__
    stmt = stmt.on_conflict_do_update(
        index_elements=key,
        set_={**{c: stmt.excluded[c] for c in compared}, "loaded_at": func.now()},
        where=or_(*[table.c[c].is_distinct_from(stmt.excluded[c]) for c in compared]),
    ).returning(table.c.source_id, WAS_INSERTED)
    touched = {row.source_id: row.inserted for row in session.execute(stmt)}
    report.inserted += sum(1 for inserted in touched.values() if inserted)
    report.updated += sum(1 for inserted in touched.values() if not inserted)
    report.unchanged += len(rows) - len(touched)


def load_context(
    session: Session,
    items: list[ContextItem],
    *,
    layer_type: str,
    source_name: str,
    comuna: str | None = None,
    synthetic: bool = False,
    progress: Progress | None = None,
) -> ContextLoadReport:
    """Upsert checked features of one type and source. Raises InvalidInput, writing nothing,
    when the type, the comuna or the source name is wrong or a feature falls outside."""
    check_layer_type(session, layer_type)
    if not source_name.strip() or len(source_name) > SOURCE_NAME_MAX_CHARS:
        reason = f"obligatorio, hasta {SOURCE_NAME_MAX_CHARS} caracteres"
        raise InvalidInput(
            f"Nombre de fuente no válido: {reason}.",
            errors=[{"field": "source", "reason": reason}],
        )
    if comuna is not None:
        resolve_comuna(session, comuna)
    comunas = assign_comunas(session, items, comuna)
    report = ContextLoadReport(layer_type=layer_type, source_name=source_name, total=len(items))
    report.by_comuna = dict(sorted(Counter(comunas).items()))
    for start in range(0, len(items), BATCH_ROWS):
        rows = [
            {
                "comuna_code": code,
                "layer_type": layer_type,
                "source_name": source_name,
                "source_id": item.source_id,
                "geom": from_shape(item.geom, srid=SRID),
                "properties": item.properties,
                "synthetic": synthetic,
            }
            for item, code in zip(
                items[start : start + BATCH_ROWS], comunas[start : start + BATCH_ROWS], strict=True
            )
        ]
        _upsert(session, rows, report)
        if progress is not None:
            progress(start + len(rows), len(items))
    in_file = {item.source_id for item in items}
    stored = session.scalars(
        select(ContextFeature.source_id).where(
            ContextFeature.layer_type == layer_type, ContextFeature.source_name == source_name
        )
    )
    report.not_in_file = sum(1 for source_id in stored if source_id not in in_file)
    session.flush()
    return report
