"""OIDC/JWT bearer tokens validated against the identity provider's JWKS.

Only for municipalities that run an identity provider; Vigía's own API keys keep working.
The token's claims must name a Vigía role; institution and unit come from claims too, so
the provider (not the token holder) decides what the caller may see.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt

from app.errors import InvalidCredentials
from app.identity.caller import Caller
from app.models import Role
from app.settings import OidcSettings


@lru_cache(maxsize=8)
def _jwks_from_file(path: str) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_json(Path(path).read_text(encoding="utf-8"))


@lru_cache(maxsize=8)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)


def _signing_key(token: str, settings: OidcSettings) -> Any:
    if settings.jwks_file:
        kid = jwt.get_unverified_header(token).get("kid")
        keys = _jwks_from_file(settings.jwks_file)
        for key in keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise jwt.InvalidKeyError("kid desconocido")
    assert settings.jwks_url is not None
    return _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token).key


def _claim(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def caller_from_token(token: str, settings: OidcSettings) -> Caller:
    """The caller a valid token names, or a 401 saying (vaguely) why it is not valid."""
    try:
        claims = jwt.decode(
            token,
            key=_signing_key(token, settings),
            algorithms=settings.algorithms,
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=settings.leeway_s,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidCredentials("El token expiró.", code="token_expirado") from None
    except (jwt.PyJWTError, ValueError, OSError):
        raise InvalidCredentials(
            "El token no es válido (firma, emisor, audiencia o formato).", code="token_invalido"
        ) from None
    role_name = _claim(claims, settings.role_claim)
    institution = _claim(claims, settings.institution_claim)
    if role_name not in {r.value for r in Role} or institution is None:
        raise InvalidCredentials(
            f"El token no trae un rol de Vigía ({settings.role_claim}) y una institución "
            f"({settings.institution_claim}) válidos.",
            code="token_sin_rol",
        )
    unit = claims.get(settings.unit_claim)
    return Caller(
        role=Role(role_name),
        institution=institution,
        unit=unit if isinstance(unit, str) and unit else None,
        key_name=str(claims["sub"])[:200],
        subject=str(claims["sub"])[:200],
    )
