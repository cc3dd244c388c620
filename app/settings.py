"""Runtime configuration, read from the environment (see the README's table)."""

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/vigia"


class DatabaseSettings(BaseSettings):
    """Where the PostGIS database is."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("VIGIA_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of the PostGIS database (driver psycopg 3).",
    )
    pool_size: int = Field(
        default=5, ge=1, le=100, description="Connections each worker keeps open."
    )
    pool_max_overflow: int = Field(
        default=5,
        ge=0,
        le=100,
        description="Extra connections beyond pool_size (side transactions: audit, limits).",
    )
    pool_timeout_s: float = Field(
        default=2.0, gt=0, le=60, description="Longest wait for a free connection (then 503)."
    )
    statement_timeout_ms: int = Field(
        default=30_000, ge=100, description="Per-statement timeout for API sessions."
    )
    role: str | None = Field(
        default=None,
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="If set, every connection runs SET ROLE to it (production: vigia_app).",
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


class AdmissionSettings(BaseSettings):
    """How many requests one worker runs at once, and how many wait (issue #13)."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_ADMISSION_", extra="ignore")

    concurrency: int | None = Field(
        default=None, ge=1, le=200, description="Requests run at once; default VIGIA_POOL_SIZE."
    )
    queue: int = Field(default=20, ge=0, description="Requests that may wait for a turn.")
    wait_s: float = Field(default=5.0, gt=0, le=120, description="Longest wait in the queue.")
    retry_after_s: int = Field(default=2, ge=1, description="Retry-After of a busy 503.")


class ProxySettings(BaseSettings):
    """Which peers may say who the client is (X-Forwarded-For, X-Forwarded-Proto)."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_", extra="ignore")

    trusted_proxies: str = Field(
        default="", description="Comma list of IPs/CIDRs of reverse proxies; empty = none."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        entries = [item.strip() for item in value.split(",") if item.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
        return ",".join(entries)

    @property
    def networks(self) -> list[str]:
        return [item for item in self.trusted_proxies.split(",") if item]


@lru_cache
def get_admission_settings() -> AdmissionSettings:
    return AdmissionSettings()


@lru_cache
def get_proxy_settings() -> ProxySettings:
    return ProxySettings()


class TerritorySettings(BaseSettings):
    """Tolerances used when a territory file is validated."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_TERRITORY_", extra="ignore")

    containment_tolerance_m: float = Field(
        default=5.0, ge=0, description="How far a child polygon may stick out of its parent."
    )
    overlap_tolerance_m2: float = Field(
        default=10.0, ge=0, description="Largest overlap accepted between sibling polygons."
    )
    comuna_tolerance_m: float = Field(
        default=50.0,
        ge=0,
        # the old name of the risk-factor setting is still read
        validation_alias=AliasChoices(
            "VIGIA_TERRITORY_COMUNA_TOLERANCE_M", "VIGIA_RISK_COMUNA_TOLERANCE_M"
        ),
        description=(
            "How far outside every loaded comuna a point (imported complaint) or a vertex "
            "(risk factor) may lie and still belong to the nearest one: GPS error."
        ),
    )


class GeocodingSettings(BaseSettings):
    """How the local geocoder decides (app/geocoding/matcher.py)."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_GEOCODE_", extra="ignore")

    min_score: float = Field(
        default=0.75,
        ge=0,
        le=1,
        description="Acceptance score: below it an address is not placed and waits for review.",
    )
    side_offset_m: float = Field(
        default=10.0, ge=0, le=50, description="A house's distance from the street centreline."
    )


@lru_cache
def get_geocoding_settings() -> GeocodingSettings:
    return GeocodingSettings()


@lru_cache
def get_database_settings() -> DatabaseSettings:
    return DatabaseSettings()


@lru_cache
def get_api_settings() -> ApiSettings:
    return ApiSettings()


@lru_cache
def get_territory_settings() -> TerritorySettings:
    return TerritorySettings()


class AuditSettings(BaseSettings):
    """Keys of the audit trail, all held outside the database (docs/seguridad.md).

    The service seals each event with `event_key_file`; `vigia audit anchor` signs the
    chain's head with `anchor_key_file`, which belongs on another host than the service.
    Verifying needs only the public keys (base64 of the raw 32 bytes, comma-separated to
    accept retired keys too); a private key's own public key is always accepted.
    """

    model_config = SettingsConfigDict(env_prefix="VIGIA_AUDIT_", extra="ignore")

    event_key_file: Path | None = Field(
        default=None, description="Ed25519 private key (PEM) the service seals events with."
    )
    event_public_keys: str = Field(
        default="", description="Public keys that verify event seals (base64, comma-separated)."
    )
    anchor_key_file: Path | None = Field(
        default=None, description="Ed25519 private key (PEM) `vigia audit anchor` signs with."
    )
    anchor_public_keys: str = Field(
        default="", description="Public keys that verify anchors (base64, comma-separated)."
    )
    anchor_journal: Path | None = Field(
        default=None,
        description="File outside the database where `vigia audit anchor` appends each line.",
    )


@lru_cache
def get_audit_settings() -> AuditSettings:
    return AuditSettings()


class RiskFactorSettings(BaseSettings):
    """Limits applied to police-reported risk factors (issue #4)."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_RISK_", extra="ignore")

    max_vertices: int = Field(
        default=500, ge=4, description="Most vertices a submitted geometry may have."
    )
    duplicate_radius_m: float = Field(
        default=30.0, ge=0, description="Open reports of the same type this close are flagged."
    )
    clock_skew_s: int = Field(
        default=300, ge=0, description="How far in the future observed_at may be (device clock)."
    )
    photo_max_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, description="Largest photo file (enforced by the shell)."
    )
    photo_max_pixels: int = Field(
        default=40_000_000,
        ge=1_000_000,
        description="Largest photo in pixels (width x height): decompression bombs are refused.",
    )
    photos_per_report: int = Field(default=10, ge=1)
    open311_resubmit_window_s: int = Field(
        default=600,
        ge=0,
        le=86_400,
        description="An identical Open311 form from the same key this soon after returns the "
        "first service_request_id instead of a second request; 0 = off.",
    )


class WebhookSettings(BaseSettings):
    """Outbox delivery of webhook notifications to responsible units."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_WEBHOOK_", extra="ignore")

    timeout_s: float = Field(default=10.0, gt=0)
    backoff_base_s: int = Field(default=30, ge=1, description="First retry delay; doubles.")
    backoff_max_s: int = Field(default=3600, ge=1, description="Longest delay between retries.")
    max_attempts: int = Field(
        default=30, ge=1, description="After this many failures a delivery is 'agotada'."
    )
    batch_size: int = Field(default=50, ge=1)
    http_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Trusted internal receivers (comma-separated host names or IPs): plain "
        "http is accepted for them and their addresses are not checked. Empty by default.",
    )

    @field_validator("http_allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [h.strip().lower() for h in value.split(",") if h.strip()]
        return value


@lru_cache
def get_risk_settings() -> RiskFactorSettings:
    return RiskFactorSettings()


@lru_cache
def get_webhook_settings() -> WebhookSettings:
    return WebhookSettings()


class BasemapSettings(BaseSettings):
    """Optional background tiles for the web map; none by default, so it works offline."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_BASEMAP_", extra="ignore")

    url: str | None = Field(
        default=None,
        description="XYZ tile URL template with {z}, {x} and {y} (e.g. an internal tile server).",
    )
    attribution: str = Field(default="", max_length=300, description="Credit shown on the map.")
    max_zoom: int = Field(default=19, ge=1, le=24)

    @field_validator("url")
    @classmethod
    def _xyz_template(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://", "/")):
            raise ValueError("must be an http(s) URL or a path on this server")
        missing = [part for part in ("{z}", "{x}", "{y}") if part not in value]
        if missing:
            raise ValueError(f"XYZ template lacks {', '.join(missing)}")
        return value


@lru_cache
def get_basemap_settings() -> BasemapSettings:
    return BasemapSettings()


class TileSettings(BaseSettings):
    """Vector tiles of point collections (OGC API, WebMercatorQuad)."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_TILES_", extra="ignore")

    aggregate_below_zoom: int = Field(
        default=13, ge=0, le=23, description="Below this zoom points are counted per grid cell."
    )
    cell_px: int = Field(
        default=64, ge=1, le=4096, description="Side of an aggregation cell in tile pixels."
    )
    max_points: int = Field(
        default=5_000, ge=1, le=100_000, description="Most points drawn in one tile."
    )
    max_age_s: int = Field(
        default=300, ge=0, description="Cache-Control max-age of public tiles (keyed: private)."
    )


@lru_cache
def get_tile_settings() -> TileSettings:
    return TileSettings()


class OidcSettings(BaseSettings):
    """Optional OIDC/JWT bearer tokens, for municipalities with their own identity provider.

    Off unless issuer, audience and a JWKS (URL or file) are all set. Tokens must be signed
    with a key from that JWKS and carry the role (and institution, unit) claims named here.
    """

    model_config = SettingsConfigDict(env_prefix="VIGIA_OIDC_", extra="ignore")

    issuer: str | None = Field(default=None, description="Expected `iss` claim.")
    audience: str | None = Field(default=None, description="Expected `aud` claim.")
    jwks_url: str | None = Field(default=None, description="URL of the provider's JWKS.")
    jwks_file: str | None = Field(default=None, description="Path of a JWKS file (offline).")
    role_claim: str = Field(default="vigia_role", description="Claim with the Vigía role.")
    institution_claim: str = Field(default="vigia_institution")
    unit_claim: str = Field(default="vigia_unit")
    algorithms: list[str] = Field(default=["RS256", "ES256"])
    leeway_s: int = Field(default=30, ge=0, le=300, description="Clock skew tolerated.")

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.audience and (self.jwks_url or self.jwks_file))


class LimitSettings(BaseSettings):
    """Hostile-input limits: request sizes, JSON shape and request rates."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_LIMIT_", extra="ignore")

    body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body on ordinary routes."
    )
    import_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1024, description="Largest complaints file to import."
    )
    json_max_depth: int = Field(default=64, ge=2, le=1000)
    auth_failures: int = Field(
        default=20, ge=1, description="Failed authentications per client IP per window."
    )
    public_requests: int = Field(
        default=300, ge=1, description="Requests without a key per client IP per window."
    )
    window_s: int = Field(default=60, ge=1, description="Sliding window of the rate limits.")
    public_lease: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Public-limit slots a worker records at once and then hands out without "
        "asking the database, for at most a second (app/api/shared_limits.py); at most a "
        "tenth of `public_requests`. 1: one database round trip per request.",
    )
    public_lease_s: float = Field(
        default=5.0,
        gt=0,
        le=15,
        description="Seconds a worker may hand out leased public slots. Longer: fewer "
        "database round trips for clients that read every few seconds; the price is that a "
        "leased slot leaves the window up to this much early (at most `public_requests` in "
        "any `window_s` minus this).",
    )


class KeyCacheSettings(BaseSettings):
    """The per-process memory of verified API keys (app/identity/key_cache.py)."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_KEY_CACHE_", extra="ignore")

    # at most 5 minutes: a key's last_used_at is refreshed when the cache asks again
    ttl_s: float = Field(
        default=60, ge=0, le=300, description="Seconds a verified key is remembered; 0 = off."
    )
    max_entries: int = Field(
        default=10_000, ge=0, description="Keys remembered per process; 0 = off."
    )

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0 and self.max_entries > 0


@lru_cache
def get_key_cache_settings() -> KeyCacheSettings:
    return KeyCacheSettings()


class TerritoryCacheSettings(BaseSettings):
    """The per-process memory of territorial OGC responses (app/ogc/response_cache.py)."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_TERRITORY_CACHE_", extra="ignore")

    max_mb: float = Field(
        default=64, ge=0, description="Megabytes of responses kept per process; 0 = off."
    )
    # a load is seen at once (NOTIFY); this bounds only changes made by hand in SQL
    ttl_s: float = Field(
        default=300, ge=0, description="Seconds a response is kept at most; 0 = off."
    )

    @property
    def enabled(self) -> bool:
        return self.max_mb > 0 and self.ttl_s > 0


@lru_cache
def get_territory_cache_settings() -> TerritoryCacheSettings:
    return TerritoryCacheSettings()


@lru_cache
def get_oidc_settings() -> OidcSettings:
    return OidcSettings()


@lru_cache
def get_limit_settings() -> LimitSettings:
    return LimitSettings()


class RiskTerrainSettings(BaseSettings):
    """Limits of the risk-terrain model (issue #17)."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_RTM_", extra="ignore")

    max_cells: int = Field(
        default=50_000,
        ge=100,
        description=(
            "Most grid cells a risk-terrain request may build; a smaller cell over a large "
            "comuna is refused with a 422 naming cell_m."
        ),
    )


@lru_cache
def get_risk_terrain_settings() -> RiskTerrainSettings:
    return RiskTerrainSettings()


class CorsSettings(BaseSettings):
    """Which web origins may call Vigía with a key (docs/seguridad.md, "CORS")."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_CORS_", extra="ignore")

    origins: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Comma list of origins (scheme://host[:port]) whose pages may send keys; "
        "reads without a key are open to every origin.",
    )

    @field_validator("origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> list[str]:
        items = value.split(",") if isinstance(value, str) else list(value or [])  # type: ignore[call-overload]
        origins = [str(item).strip().rstrip("/") for item in items if str(item).strip()]
        for origin in origins:
            scheme, sep, host = origin.partition("://")
            if scheme not in ("http", "https") or not sep or not host or "/" in host:
                raise ValueError(f"{origin!r} no es un origen (esquema://host[:puerto])")
        return origins


@lru_cache
def get_cors_settings() -> CorsSettings:
    return CorsSettings()
