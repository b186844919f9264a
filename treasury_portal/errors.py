"""The one application exception type. Services raise it; the API's exception
handler and the pages turn it into a clear sentence with a machine code."""

from typing import Any


class ApplicationError(Exception):
    """A business rule refused the request. `code` is the API's machine code."""

    http_status = 409

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.fields = fields or {}
        if status is not None:
            self.http_status = status


class ValidationFailed(ApplicationError):
    def __init__(self, message: str, *, fields: dict[str, Any] | None = None) -> None:
        super().__init__("validation_error", message, status=400, fields=fields)


class NotFound(ApplicationError):
    """Also used for other organisations' objects: never reveal that they exist."""

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__("not_found", message, status=404)


class PermissionDenied(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__("permission_denied", message, status=403)
