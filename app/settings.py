"""Runtime configuration, read from the environment (see the README's table)."""

from functools import lru_cache

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/vigia"


class DatabaseSettings(BaseSettings):
    """Where the PostGIS database is."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("VIGIA_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of the PostGIS database (driver psycopg 3).",
    )
    pool_size: int = Field(default=5, ge=1, le=100)
    statement_timeout_ms: int = Field(
        default=30_000, ge=100, description="Per-statement timeout for API sessions."
    )

    @field_validator("database_url")
    @classmethod
    def _use_psycopg3(cls, value: str) -> str:
        # Heroku-style URLs ("postgres://", "postgresql://") default to psycopg2 in
        # SQLAlchemy; Vigía only ships psycopg 3.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value


class ApiSettings(BaseSettings):
    """HTTP-facing behaviour."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = Field(
        default=None, description="Base URL the service is reached at, for printed links."
    )
    geojson_precision: int = Field(
        default=6, ge=0, le=15, description="Decimal digits in GeoJSON coordinates (6 ~ 0.1 m)."
    )


class TerritorySettings(BaseSettings):
    """Tolerances used when a territory file is validated."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_TERRITORY_", extra="ignore")

    containment_tolerance_m: float = Field(
        default=5.0, ge=0, description="How far a child polygon may stick out of its parent."
    )
    overlap_tolerance_m2: float = Field(
        default=10.0, ge=0, description="Largest overlap accepted between sibling polygons."
    )


@lru_cache
def get_database_settings() -> DatabaseSettings:
    return DatabaseSettings()


@lru_cache
def get_api_settings() -> ApiSettings:
    return ApiSettings()


@lru_cache
def get_territory_settings() -> TerritorySettings:
    return TerritorySettings()
