from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FieldProblemRead(BaseModel):
    field: str = Field(description="Campo con el problema (p. ej. `lat`, `geometry`).")
    reason: str = Field(description="Por qué se rechazó, en español.")
    location: str | None = Field(default=None, description="body, query, path, header o file.")
    row: int | None = Field(default=None, description="Fila del archivo (desde 1).")
    index: int | None = Field(default=None, description="Índice del feature (desde 0).")
    code: str | None = Field(default=None, description="Código del registro afectado.")


class Problem(BaseModel):
    """RFC 9457 problem details, as every Vigía error is answered."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:vigia:problema:datos_invalidos"])
    title: str
    status: int
    detail: str
    code: str = Field(description="Código estable, para programas.")
    errors: list[FieldProblemRead] | None = None
    request_id: str | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """`responses=` entries documenting problem+json answers for the given statuses."""
    return {
        status: {"model": Problem, "content": {"application/problem+json": {}}}
        for status in statuses
    }


class HealthRead(BaseModel):
    status: Literal["ok", "error"]
    database: bool
    postgis_version: str | None = None
    migrations_at_head: bool
    revision: list[str]
    expected_revision: list[str]
    detail: str | None = None
