from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    request_id: str | None
    actor: str = Field(description="Prefijo de la clave, `oidc:<sub>`, `cli:<usuario>` o publico.")
    role: str | None
    institution: str | None
    action: str = Field(examples=["risk_factor.submit"])
    object_type: str
    object_id: str | None
    outcome: str = Field(description="ok o denegado.")
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditVerificationRead(BaseModel):
    checked: int
    ok: bool
    first_broken_id: int | None
    reason: str | None
