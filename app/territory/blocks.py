"""Census blocks (manzanas): loading a comuna's block file, and what the map needs of them.

Blocks are public census geometry (no counts): the web map draws them as a light base when
no basemap is set, so a town view shows its streets and built-up area without internet.
They are territory, not context: they live in `census_block`, never in `context_feature`,
so the risk-terrain model (which reads context layers) never takes them for a risk factor.

Loading is all or nothing, like the territory and the context layers: the whole file is read
and checked first (pyogrio, the same reader and RFC 7946 checks as the context layers,
polygons only), every block must fall in a loaded comuna (or in the one named), and only
then is anything written. A block is known by (comuna, source id): loading the same file
again changes nothing, and a changed block is updated in place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.context.loader import BATCH_ROWS, assign_comunas
from app.context.reader import ContextFileError, ContextItem, read_context_file
from app.errors import InvalidInput
from app.models import CensusBlock
from app.models.base import SRID
from app.territory.service import WAS_INSERTED, resolve_comuna

# INE's block code (comuna + distrito + área + zona + manzana), the id of its block files
DEFAULT_ID_FIELD = "manzana_id"
POLYGONS = ("Polygon", "MultiPolygon")
INVALID_FILE = "manzanas_invalidas"

Progress = Callable[[int, int], None]


@dataclass
class BlocksLoadReport:
    total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    by_comuna: dict[str, int] = field(default_factory=dict)
    not_in_file: int = 0  # blocks of these comunas stored before that the file no longer has

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)


def parse_blocks_file(path: Path, *, id_field: str = DEFAULT_ID_FIELD) -> list[ContextItem]:
    """Every block of the file, checked; InvalidInput lists every bad feature at once."""
    try:
        return read_context_file(path, id_field=id_field, geometry_types=POLYGONS)
    except ContextFileError as exc:
        raise InvalidInput(
            f"El archivo de manzanas {path.name} tiene {len(exc.problems)} problema(s); "
            "no se escribió nada.",
            errors=exc.problems,
            code=INVALID_FILE,
        ) from exc


def _multi(geom: BaseGeometry) -> BaseGeometry:
    return MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def _upsert(session: Session, rows: list[dict[str, Any]], report: BlocksLoadReport) -> None:
    stmt: Any = insert(CensusBlock).values(rows)
    compared = ["geom", "attributes"]
    table = CensusBlock.__table__
    stmt = stmt.on_conflict_do_update(
        index_elements=["comuna_code", "source_id"],
        set_={c: stmt.excluded[c] for c in compared},
        where=or_(*[table.c[c].is_distinct_from(stmt.excluded[c]) for c in compared]),
    ).returning(table.c.source_id, WAS_INSERTED)
    touched = [row.inserted for row in session.execute(stmt)]
    report.inserted += sum(touched)
    report.updated += len(touched) - sum(touched)
    report.unchanged += len(rows) - len(touched)


def load_blocks(
    session: Session,
    items: list[ContextItem],
    *,
    comuna: str | None = None,
    progress: Progress | None = None,
) -> BlocksLoadReport:
    """Upsert checked blocks; InvalidInput, writing nothing, when the comuna is unknown or a
    block falls outside every loaded comuna (or outside the one named)."""
    if comuna is not None:
        resolve_comuna(session, comuna)
    comunas = assign_comunas(session, items, comuna)
    report = BlocksLoadReport(total=len(items), by_comuna=dict(sorted(Counter(comunas).items())))
    for start in range(0, len(items), BATCH_ROWS):
        batch = zip(
            items[start : start + BATCH_ROWS], comunas[start : start + BATCH_ROWS], strict=True
        )
        rows = [
            {
                "comuna_code": code,
                "source_id": item.source_id,
                "attributes": item.properties,
                "geom": from_shape(_multi(item.geom), srid=SRID),
            }
            for item, code in batch
        ]
        _upsert(session, rows, report)
        if progress is not None:
            progress(start + len(rows), len(items))
    in_file = set(zip(comunas, (item.source_id for item in items), strict=True))
    stored = session.execute(
        select(CensusBlock.comuna_code, CensusBlock.source_id).where(
            CensusBlock.comuna_code.in_(report.by_comuna)
        )
    )
    report.not_in_file = sum(1 for row in stored if (row[0], row[1]) not in in_file)
    session.flush()
    return report


def block_counts(session: Session) -> dict[str, int]:
    """How many blocks each comuna has (a comuna without blocks is absent)."""
    rows = session.execute(
        select(CensusBlock.comuna_code, func.count()).group_by(CensusBlock.comuna_code)
    )
    return {code: int(n) for code, n in rows}
