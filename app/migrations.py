"""Bridges to Alembic: run the migrations, and tell whether a database is at head."""

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

REPO_ROOT = Path(__file__).resolve().parents[1]


def alembic_config() -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    config = alembic_config()
    config.attributes["configure_logging"] = False
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@lru_cache
def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


@lru_cache
def seeded_risk_factor_days() -> dict[str, int]:
    """`expected_days` per type of the risk-factor catalog a fresh database is seeded with
    (migration 0003), for code that plans reports without a database (the demo generator).
    """
    script = ScriptDirectory.from_config(alembic_config()).get_revision("0003_risk_factors")
    assert script is not None
    assert script.module is not None
    return {t["code"]: int(t["expected_days"]) for t in script.module.SEED_TYPES}
