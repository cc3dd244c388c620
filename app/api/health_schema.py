from typing import Literal

from pydantic import BaseModel


class HealthRead(BaseModel):
    status: Literal["ok", "error"]
    database: bool
    postgis_version: str | None = None
    migrations_at_head: bool
    revision: list[str]
    expected_revision: list[str]
    detail: str | None = None
