"""Scoring profiles in the database: append-only, one row per (name, version).

A revision never edits a row: it inserts version n + 1 (the table's trigger refuses UPDATE
and DELETE), so every ranking keeps pointing at the exact weights it used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import ScoringProfileRow
from app.scoring import ScoringProfile
from app.scoring.errors import ProfileError, problem


class ProfileNotFound(NotFound):
    code = "perfil_no_encontrado"
    title = "Perfil de ranking no encontrado"


def definition_of(profile: ScoringProfile) -> dict[str, Any]:
    """What is stored in `scoring_profile.definition` (plain floats, sorted keys)."""
    out: dict[str, Any] = {
        "weights": dict(profile.weights),
        "normalisation": profile.normalisation.value,
        "classifier": profile.classifier.value,
        "inverted": sorted(profile.inverted),
        "risk_factor_weights": dict(profile.risk_factor_weights),
    }
    if profile.method != 1:  # method-1 rows keep the form they were stored with
        out["method"] = profile.method
        out["smoothing"] = profile.smoothing.value
    return out


def to_profile(row: ScoringProfileRow) -> ScoringProfile:
    definition = row.definition
    return ScoringProfile(
        name=row.name,
        version=row.version,
        weights=definition["weights"],
        normalisation=definition["normalisation"],
        classifier=definition["classifier"],
        inverted=frozenset(definition.get("inverted", [])),
        risk_factor_weights=definition.get("risk_factor_weights", {}),
        description=row.description,
        method=int(definition.get("method", 1)),
        smoothing=definition.get("smoothing", "global"),
    )


def get_profile_row(session: Session, name: str, version: int | None = None) -> ScoringProfileRow:
    stmt = select(ScoringProfileRow).where(ScoringProfileRow.name == name)
    if version is None:
        stmt = stmt.order_by(ScoringProfileRow.version.desc()).limit(1)
    else:
        stmt = stmt.where(ScoringProfileRow.version == version)
    row = session.scalars(stmt).first()
    if row is None:
        which = f"'{name}'" if version is None else f"'{name}' v{version}"
        raise ProfileNotFound(f"No existe el perfil de ranking {which}.")
    return row


def get_profile(session: Session, name: str, version: int | None = None) -> ScoringProfile:
    return to_profile(get_profile_row(session, name, version))


def list_profiles(session: Session) -> list[ScoringProfileRow]:
    return list(
        session.scalars(
            select(ScoringProfileRow).order_by(ScoringProfileRow.name, ScoringProfileRow.version)
        )
    )


def create_profile_version(
    session: Session,
    *,
    name: str,
    changes: Mapping[str, Any],
    description: str,
    created_by: str,
) -> ScoringProfileRow:
    """Insert the next version of `name` (version 1 for a new name).

    Fields missing from `changes` are taken from the latest version, so a revision may send
    only new weights. Invalid profiles raise `ProfileError` (422) before anything is written.
    """
    changes, description = _weights_from_terrain(session, changes, description)
    # serialise concurrent revisions of the same name: two admins never get the same version
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext("scoring_profile:" + name))))
    latest = session.scalars(
        select(ScoringProfileRow)
        .where(ScoringProfileRow.name == name)
        .order_by(ScoringProfileRow.version.desc())
        .limit(1)
    ).first()
    # a new name runs the current method; a revision keeps the method of the version it revises
    base: dict[str, Any] = {
        "weights": {},
        "inverted": [],
        "risk_factor_weights": {},
        "method": 2,
        "smoothing": "global",
    }
    if latest is not None:
        base = dict(latest.definition)
    merged = {**base, **{k: v for k, v in changes.items() if v is not None}}
    profile = ScoringProfile(
        name=name,
        version=1 if latest is None else latest.version + 1,
        weights=merged["weights"],
        normalisation=merged.get("normalisation", "min_max"),
        classifier=merged.get("classifier", "fisher_jenks"),
        inverted=frozenset(merged.get("inverted", [])),
        risk_factor_weights=merged.get("risk_factor_weights", {}),
        description=description,
        method=int(merged.get("method", 1)),
        smoothing=merged.get("smoothing", "global"),
    )
    row = ScoringProfileRow(
        name=profile.name,
        version=profile.version,
        definition=definition_of(profile),
        description=description,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row


def _weights_from_terrain(
    session: Session, changes: Mapping[str, Any], description: str
) -> tuple[dict[str, Any], str]:
    """`risk_factor_weights_from` (a risk-terrain snapshot id) turned into the weights it
    cites: each retained factor type's RRV, copied now so the profile stays immutable."""
    changes = dict(changes)
    source = changes.pop("risk_factor_weights_from", None)
    if source is None:
        return changes, description
    if changes.get("risk_factor_weights") is not None:
        raise ProfileError(
            "use risk_factor_weights o risk_factor_weights_from, no ambos",
            errors=[problem("risk_factor_weights_from", "excluye risk_factor_weights")],
        )
    from app.risk_terrain.store import factor_type_weights

    weights = factor_type_weights(session, source)
    changes["risk_factor_weights"] = weights
    cited = f"Pesos por tipo de factor: RRV del modelo de terreno de riesgo {source}."
    return changes, f"{description} {cited}".strip()
