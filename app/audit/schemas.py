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
    nonce: str | None = Field(description="Único por evento: un sello no se puede reutilizar.")
    seal: str | None = Field(description="Firma Ed25519 del servicio (base64url), o null.")
    prev_hash: str
    hash: str


class AuditVerificationRead(BaseModel):
    checked: int
    ok: bool
    first_broken_id: int | None
    reason: str | None
    sealed: int = Field(description="Eventos cuyo sello del servicio se verificó.")
    anchors: int = Field(description="Anclas firmadas que coinciden con la cadena.")
    notes: list[str] = Field(description="Lo que no se pudo verificar, y por qué.")
