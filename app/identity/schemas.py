from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models import Role


class CallerRead(BaseModel):
    """Who the presented key belongs to."""

    role: Role
    institution: str
    unit: str | None
    key_name: str


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    prefix: str = Field(description="Identifica la clave; el secreto no se guarda.")
    name: str
    role: Role
    institution: str
    unit: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
