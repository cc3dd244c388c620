"""Vigía's error hierarchy, rendered as RFC 9457 problem details.

Every error a person can trigger is a `VigiaError` subclass with an HTTP status, a stable
machine-readable `code` and a Spanish title. Handlers in `app.api.problems` render them;
services raise them without knowing about HTTP.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypedDict


class FieldProblem(TypedDict, total=False):
    """One offending input: which field, and why (in Spanish)."""

    field: str
    reason: str
    location: str  # body, query, path, header, file
    row: int  # 1-based row in an uploaded file
    index: int  # 0-based index of a feature in a FeatureCollection
    code: str  # domain code of the offending record (e.g. barrio code)


class VigiaError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "error_interno"
    title: ClassVar[str] = "Error interno"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldProblem] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.detail = detail or self.title
        self.errors = errors or []
        self.instance_code = code or self.code
        self.headers = headers or {}
        self.extra = extra
        super().__init__(self.detail)

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:vigia:problema:{self.instance_code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.instance_code,
        }
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class BadRequest(VigiaError):
    status = 400
    code = "solicitud_invalida"
    title = "Solicitud inválida"


class NotAuthenticated(VigiaError):
    status = 401
    code = "no_autenticado"
    title = "Se requiere una clave de acceso"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="vigia"'})
        super().__init__(detail, **kwargs)


class InvalidCredentials(NotAuthenticated):
    code = "clave_invalida"
    title = "Clave de acceso no válida"


class Forbidden(VigiaError):
    status = 403
    code = "sin_permiso"
    title = "Sin permiso"


class NotFound(VigiaError):
    status = 404
    code = "no_encontrado"
    title = "No encontrado"


class Conflict(VigiaError):
    status = 409
    code = "conflicto"
    title = "Conflicto con el estado actual"


class PreconditionFailed(VigiaError):
    status = 412
    code = "version_desactualizada"
    title = "El recurso cambió desde que se leyó"


class PayloadTooLarge(VigiaError):
    status = 413
    code = "contenido_demasiado_grande"
    title = "Contenido demasiado grande"


class UnsupportedMediaType(VigiaError):
    status = 415
    code = "tipo_de_contenido_no_soportado"
    title = "Tipo de contenido no soportado"


class InvalidInput(VigiaError):
    status = 422
    code = "datos_invalidos"
    title = "Datos inválidos"


class PreconditionRequired(VigiaError):
    status = 428
    code = "falta_if_match"
    title = "Se requiere If-Match"


class TooManyRequests(VigiaError):
    status = 429
    code = "demasiadas_solicitudes"
    title = "Demasiadas solicitudes"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        super().__init__(detail, **kwargs)


class ServiceUnavailable(VigiaError):
    status = 503
    code = "servicio_no_disponible"
    title = "Servicio no disponible"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": "30"})
        super().__init__(detail, **kwargs)


class ServiceBusy(ServiceUnavailable):
    """Every turn is taken (admission queue full, or no free database connection)."""

    code = "servicio_ocupado"
    title = "Servicio ocupado"

    def __init__(self, why: str, *, retry_after: int, **kwargs: Any) -> None:
        wait = max(1, retry_after)
        kwargs.setdefault("headers", {"Retry-After": str(wait)})
        super().__init__(
            f"El servicio está atendiendo su máximo de solicitudes ({why}). Reintente en {wait} s.",
            **kwargs,
        )


class ClientGone(VigiaError):
    """The client disconnected before its request committed: rolled back, nobody to tell."""

    status = 499
    code = "cliente_desconectado"
    title = "El cliente cerró la conexión"
