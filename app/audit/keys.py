"""Ed25519 keys of the audit trail and the canonical bytes they sign.

Two key pairs, both outside the database: the service's *event* key seals every event
(so a row the database role writes on its own has no valid seal), and the *anchor* key
signs the chain's head (so whoever owns the database cannot shorten the chain unseen).
Public keys travel as base64 of their 32 raw bytes: short enough for an env var and a
printed bulletin.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from app.errors import InvalidInput
from app.settings import AuditSettings

SEAL_VERSION = "vigia-evento-1"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_text(key: Ed25519PublicKey) -> str:
    return b64(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def parse_public_keys(text: str, *, field: str) -> list[Ed25519PublicKey]:
    keys = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            raw = unb64(part)
            keys.append(Ed25519PublicKey.from_public_bytes(raw))
        except (ValueError, binascii.Error):
            raise InvalidInput(
                f"{field}: «{part}» no es una clave pública Ed25519 (base64 de 32 bytes).",
                errors=[{"field": field, "reason": "clave pública Ed25519 inválida"}],
            ) from None
    return keys


@lru_cache(maxsize=8)
def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise InvalidInput(
            f"No se pudo leer la clave privada {path}: {exc}",
            errors=[{"field": str(path), "reason": "clave privada ilegible"}],
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(
            f"La clave {path} no es Ed25519.",
            errors=[{"field": str(path), "reason": "se espera una clave Ed25519"}],
        )
    return key


def write_private_key(path: Path) -> Ed25519PublicKey:
    """A new key pair; the private half goes to `path` (mode 0600, never overwritten)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key.public_key()


@dataclass(frozen=True)
class KeyRing:
    """A private key to sign with (if this process holds one) and the keys that verify."""

    signer: Ed25519PrivateKey | None
    verifiers: tuple[Ed25519PublicKey, ...]

    def sign(self, message: bytes) -> str | None:
        return None if self.signer is None else b64(self.signer.sign(message))

    def verifies(self, message: bytes, signature: str) -> bool:
        try:
            raw = unb64(signature)
        except (ValueError, binascii.Error):
            return False
        for key in self.verifiers:
            try:
                key.verify(raw, message)
                return True
            except InvalidSignature:
                continue
        return False


@lru_cache(maxsize=8)
def _ring(key_file: Path | None, public: str, field: str) -> KeyRing:
    signer = load_private_key(key_file) if key_file is not None else None
    verifiers = parse_public_keys(public, field=field)
    if signer is not None:
        verifiers.append(signer.public_key())
    return KeyRing(signer, tuple(verifiers))


def event_keys(settings: AuditSettings) -> KeyRing:
    return _ring(
        settings.event_key_file, settings.event_public_keys, "VIGIA_AUDIT_EVENT_PUBLIC_KEYS"
    )


def anchor_keys(settings: AuditSettings) -> KeyRing:
    return _ring(
        settings.anchor_key_file, settings.anchor_public_keys, "VIGIA_AUDIT_ANCHOR_PUBLIC_KEYS"
    )


# --- the canonical bytes of an event -----------------------------------------------------


_string = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per call
# a list of strings as `_canon` writes it item by item: `["a","b"]`, no spaces
_strings = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _canon(value: Any) -> str:
    """JSON with sorted keys and numbers as the database keeps them (jsonb is numeric:
    1.0, 1 and 1e0 are one value), so the bytes signed before the insert are the bytes
    rebuilt from the stored row.
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Decimal):
        return "0" if value.is_zero() else str(value.normalize())
    if isinstance(value, list):
        if all(type(v) is str for v in value):  # the ids of a read: one encoder call, not 200
            return _strings(value)
        return "[" + ",".join(_canon(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{_canon(k)}:{_canon(v)}" for k, v in items) + "}"
    raise TypeError(f"valor no JSON en la bitácora: {type(value).__name__}")


def parse_detail(text: str) -> Any:
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def event_message(fields: Iterable[str | None], detail_json: str, nonce: str) -> bytes:
    """What a seal signs: the event's own fields (not id, time or hashes, which the
    database assigns after the service signed), its detail and a unique nonce.
    """
    parts: list[Any] = [SEAL_VERSION, *fields, parse_detail(detail_json), nonce]
    return _canon(parts).encode()
