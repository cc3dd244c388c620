"""Rankings of critical barrios and micro-barrios: profiles, snapshots, external variables.

A snapshot stores its input table, so anyone can recompute a ranking cited in a council
session and get the same numbers even after late complaints arrive. Profiles are
append-only (a database trigger refuses UPDATE and DELETE).
"""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

LEVELS = ("barrio", "micro_barrio")


class ScoringProfileRow(Base):
    __tablename__ = "scoring_profile"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    description: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(200))


class RankingSnapshot(Base):
    __tablename__ = "ranking_snapshot"
    __table_args__ = (
        ForeignKeyConstraint(
            ["profile_name", "profile_version"],
            ["scoring_profile.name", "scoring_profile.version"],
            ondelete="RESTRICT",
        ),
        CheckConstraint("level IN ('barrio', 'micro_barrio')", name="level_known"),
        CheckConstraint("period_end >= period_start", name="period_order"),
        Index("ix_ranking_snapshot_latest", "comuna_code", "level", text("computed_at DESC")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comuna.code", ondelete="RESTRICT"))
    level: Mapped[str] = mapped_column(String(20))
    profile_name: Mapped[str] = mapped_column(String(64))
    profile_version: Mapped[int]
    period_start: Mapped[date] = mapped_column(comment="Primer día incluido")
    period_end: Mapped[date] = mapped_column(comment="Último día incluido")
    input_fingerprint: Mapped[str] = mapped_column(String(64))
    result_fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    computed_by: Mapped[str] = mapped_column(String(200))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # "metadata" is reserved on declarative classes
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB)


class RankingUnitResult(Base):
    __tablename__ = "ranking_unit_result"
    __table_args__ = (Index("ix_ranking_unit_result_snapshot_id_rank", "snapshot_id", "rank"),)

    snapshot_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ranking_snapshot.id", ondelete="CASCADE"), primary_key=True
    )
    unit_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    unit_id: Mapped[int | None]
    unit_name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int]
    score: Mapped[float] = mapped_column(Float)
    class_: Mapped[str] = mapped_column("class", String(20))
    population: Mapped[int | None]
    population_estimated: Mapped[bool]
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB)
    normalised: Mapped[dict[str, Any]] = mapped_column(JSONB)
    contributions: Mapped[dict[str, Any]] = mapped_column(JSONB)
    top_variables: Mapped[list[str]] = mapped_column(JSONB)
    diagnostics: Mapped[dict[str, Any]] = mapped_column(JSONB)


class ExternalVariable(Base):
    __tablename__ = "external_variable"
    __table_args__ = (
        UniqueConstraint("comuna_code", "level", "unit_code", "name"),
        CheckConstraint("level IN ('barrio', 'micro_barrio')", name="level_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comuna.code", ondelete="RESTRICT"))
    level: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(server_default=func.now())
