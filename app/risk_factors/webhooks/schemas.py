import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.api.params import CutCode
from app.models import DeliveryStatus


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    comuna: CutCode = Field(description="Código CUT de la comuna.")
    url: str = Field(max_length=500, description="URL http(s) que recibe los POST firmados.")
    unit: str | None = Field(
        default=None,
        max_length=200,
        description="Unidad responsable cuyos factores se notifican (rol unit: la propia).",
    )
    events: list[str] | None = Field(
        default=None, description="Eventos (por defecto todos): factor.derivado, ..."
    )


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    comuna_code: str
    unit: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Secreto HMAC; se muestra solo esta vez.")


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event: str
    report_id: uuid.UUID | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
