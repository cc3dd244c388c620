"""API keys and the headers that carry them."""

from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy.orm import Session

from app.identity import api_keys
from app.models import Role


def make_key(
    session: Session,
    *,
    role: Role = Role.PLANNER,
    institution: str = "municipalidad",
    unit: str | None = None,
    expires_at: datetime | None = None,
    revoked: bool = False,
) -> str:
    key, secret = api_keys.create_key(
        session,
        name=f"prueba {role.value}",
        role=role,
        institution=institution,
        unit=unit,
        expires_at=expires_at,
    )
    if revoked:
        api_keys.revoke_key(session, key.prefix)
    # commit = release the savepoint: the key survives a request that rolls back
    session.commit()
    return secret


def make_auth_headers(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


class Keys:
    """One key per role, made once per test."""

    def __init__(self, db: Session) -> None:
        self.police = make_key(db, role=Role.POLICE, institution="carabineros")
        self.pdi = make_key(db, role=Role.POLICE, institution="pdi")
        self.admin = make_key(db, role=Role.ADMIN)
        self.planner = make_key(db, role=Role.PLANNER)
        self.unit = make_key(db, role=Role.UNIT, unit="Alumbrado público")
        self.other_unit = make_key(db, role=Role.UNIT, unit="Aseo y ornato")

    def h(self, role: str, **extra: str) -> dict[str, str]:
        return {**make_auth_headers(getattr(self, role)), **extra}


def make_basic_headers(secret: str, *, user: str = "vigia") -> dict[str, str]:
    """HTTP Basic with the key as the password, as QGIS and GDAL send it."""
    token = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
