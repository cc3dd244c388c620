"""The crime-category catalog: reading it, and upserting a revised `categories.csv`."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Connection, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.migrations import REPO_ROOT
from app.models import CrimeCategory, CrimeFamily

CATEGORIES_FILE = REPO_ROOT / "data" / "categories.csv"
COLUMNS = (
    "code",
    "name",
    "family_code",
    "family_name",
    "taxonomy_version",
    "dmcs",
    "sensitive",
    "violent",
    "drug_kind",
    "cead_series",
)
_BOOLEANS = {"true": True, "false": False}


def list_categories(session: Session) -> list[tuple[CrimeCategory, str]]:
    """Every category with its family's name, ordered by family then code."""
    rows = session.execute(
        select(CrimeCategory, CrimeFamily.name)
        .join(CrimeFamily, CrimeFamily.code == CrimeCategory.family_code)
        .order_by(CrimeCategory.family_code, func.length(CrimeCategory.code), CrimeCategory.code)
    )
    return [(category, family_name) for category, family_name in rows]


def category_versions(target: Session | Connection) -> dict[str, str]:
    """code -> taxonomy_version, for validating incoming complaints."""
    rows = target.execute(select(CrimeCategory.code, CrimeCategory.taxonomy_version))
    return dict(rows.all())


@dataclass
class CatalogReport:
    families: int
    inserted: int
    updated: int
    unchanged: int


def read_catalog(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise InvalidInput(
                f"{path.name} debe tener las columnas: {', '.join(COLUMNS)}.",
                errors=[{"field": "encabezado", "reason": "columnas inesperadas"}],
            )
        rows = list(reader)
    problems = []
    for n, row in enumerate(rows, start=1):
        for column in ("dmcs", "sensitive", "violent"):
            if row[column] not in _BOOLEANS:
                problems.append({"row": n, "field": column, "reason": "debe ser true o false"})
        for column in ("code", "name", "family_code", "family_name", "taxonomy_version"):
            if not row[column]:
                problems.append({"row": n, "field": column, "reason": "campo obligatorio"})
    if problems:
        raise InvalidInput(
            f"{path.name} tiene {len(problems)} problema(s); no se escribió nada.",
            errors=problems,  # type: ignore[arg-type]
        )
    return rows


def load_catalog(session: Session, rows: list[dict[str, str]]) -> CatalogReport:
    """Upsert families and categories; categories not in the file are left in place."""
    families = {r["family_code"]: r["family_name"] for r in rows}
    fam_stmt = insert(CrimeFamily).values([{"code": k, "name": v} for k, v in families.items()])
    session.execute(
        fam_stmt.on_conflict_do_update(
            index_elements=["code"],
            set_={"name": fam_stmt.excluded.name},
            where=CrimeFamily.name.is_distinct_from(fam_stmt.excluded.name),
        )
    )
    values: list[dict[str, Any]] = [
        {
            "code": r["code"],
            "name": r["name"],
            "family_code": r["family_code"],
            "taxonomy_version": r["taxonomy_version"],
            "dmcs": _BOOLEANS[r["dmcs"]],
            "sensitive": _BOOLEANS[r["sensitive"]],
            "violent": _BOOLEANS[r["violent"]],
            "drug_kind": r["drug_kind"] or None,
            "cead_series": r["cead_series"] or None,
        }
        for r in rows
    ]
    stmt: Any = insert(CrimeCategory).values(values)
    compared = [c for c in values[0] if c != "code"]
    table = CrimeCategory.__table__
    stmt = stmt.on_conflict_do_update(
        index_elements=["code"],
        set_={c: stmt.excluded[c] for c in compared},
        where=or_(*[table.c[c].is_distinct_from(stmt.excluded[c]) for c in compared]),
    ).returning(table.c.code, literal_column("(xmax = 0)", Boolean).label("inserted"))
    # xmax = 0 only for a freshly inserted tuple (the usual upsert idiom)
    touched = session.execute(stmt).all()
    inserted = sum(1 for _, was_inserted in touched if was_inserted)
    session.flush()
    return CatalogReport(
        families=len(families),
        inserted=inserted,
        updated=len(touched) - inserted,
        unchanged=len(values) - len(touched),
    )
