"""Issuing, listing, revoking and checking API keys.

Keys are 256-bit random tokens, so a single SHA-256 is enough to store them safely (as
GitHub and Stripe do): unlike passwords they cannot be guessed from a dictionary.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app.errors import InvalidCredentials, NotFound
from app.identity.caller import Caller
from app.identity.key_cache import KeyCache
from app.models.api_key import ApiKey, Role

KEY_PREFIX = "vga_"
_PREFIX_CHARS = len(KEY_PREFIX) + 8  # "vga_" and 4 random bytes in hex, then "_<secret>"
_LAST_USED_RESOLUTION = timedelta(minutes=5)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    session: Session,
    *,
    name: str,
    role: Role,
    institution: str,
    unit: str | None = None,
    comuna_code: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Store a new key and return it with its secret, which is shown only this once."""
    prefix = KEY_PREFIX + secrets.token_hex(4)
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        prefix=prefix,
        key_hash=hash_key(secret),
        name=name,
        role=role,
        institution=institution.strip().lower(),
        unit=unit,
        comuna_code=comuna_code,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    from app.audit import trail as audit  # here, not at the top: see `list_keys`

    audit.record(session, "api_key.create", "api_key", key.prefix, detail={"role": role.value})
    return key, secret


def list_keys(session: Session, *, include_revoked: bool = False) -> list[ApiKey]:
    """The keys, oldest first. This module imports the audit trail (its signing keys and
    models) only where it records, so `vigia apikey list` does not pay for it."""
    stmt = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(stmt))


def revoke_key(session: Session, prefix: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise NotFound(f"No existe una clave con prefijo {prefix!r}")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        session.flush()
        from app.audit import trail as audit

        audit.record(session, "api_key.revoke", "api_key", key.prefix)
    return key


# Built once: the lookup runs on every authenticated request (a prebuilt Core statement
# returns a row instead of loading an ORM object).
_LOOKUP = select(
    ApiKey.id,
    ApiKey.role,
    ApiKey.institution,
    ApiKey.unit,
    ApiKey.name,
    ApiKey.prefix,
    ApiKey.revoked_at,
    ApiKey.expires_at,
    ApiKey.last_used_at,
).where(ApiKey.key_hash == bindparam("key_hash"))


def cached_caller(cache: KeyCache, secret: str, *, now: datetime | None = None) -> Caller | None:
    """The caller of a key this process verified moments ago, or None: ask `authenticate`."""
    if secret[_PREFIX_CHARS : _PREFIX_CHARS + 1] != "_":
        return None
    return cache.lookup(secret[:_PREFIX_CHARS], hash_key(secret), now or datetime.now(UTC))


def authenticate(
    session: Session,
    secret: str,
    *,
    now: datetime | None = None,
    cache: KeyCache | None = None,
) -> Caller:
    """Resolve a presented key to its caller, or raise a 401 saying what is wrong with it.

    A key found valid is handed to `cache` (if any) for the next requests.
    """
    now = now or datetime.now(UTC)
    digest = hash_key(secret)
    generation = cache.generation() if cache is not None else 0  # before reading the key
    key = session.connection().execute(_LOOKUP, {"key_hash": digest}).one_or_none()
    if key is None:
        raise InvalidCredentials("La clave de acceso no existe o está mal copiada.")
    if key.revoked_at is not None:
        raise InvalidCredentials("La clave de acceso fue revocada.", code="clave_revocada")
    if key.expires_at is not None and key.expires_at <= now:
        raise InvalidCredentials(
            f"La clave de acceso expiró el {key.expires_at:%Y-%m-%d %H:%M} UTC.",
            code="clave_expirada",
        )
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    caller = Caller(
        role=key.role,
        institution=key.institution,
        unit=key.unit,
        key_id=key.id,
        key_name=key.name,
        key_prefix=key.prefix,
    )
    if cache is not None:
        cache.store(generation, key.prefix, digest, caller, key.expires_at)
    return caller
