"""Request-rate windows shared by every worker and kept across restarts (app/api/shared_limits)."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class RateLimitWindow(Base):
    """One row per (limit, client): the instants of its recent events, oldest first.

    UNLOGGED: counters are worth a WAL write per request to nobody; after a crash
    PostgreSQL empties the table, which only forgives the last minute.
    """

    __tablename__ = "rate_limit_window"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    bucket: Mapped[str] = mapped_column(String(40), primary_key=True)
    client: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[list[datetime]] = mapped_column(ARRAY(TIMESTAMP(timezone=True)))
