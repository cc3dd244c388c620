"""API keys: the credential police, units, planners and admins call Vigía with."""

import enum
from datetime import datetime

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin


class Role(enum.StrEnum):
    POLICE = "police"
    UNIT = "unit"
    PLANNER = "planner"
    ADMIN = "admin"


class ApiKey(TimestampMixin, Base):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown in listings so people can tell keys apart; the secret part is never stored.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="SHA-256 hex")
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="role", values_callable=lambda e: [m.value for m in e])
    )
    institution: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str | None] = mapped_column(String(200))
    comuna_code: Mapped[str | None] = mapped_column(String(5))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
