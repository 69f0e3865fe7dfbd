"""One error hierarchy: each carries its HTTP status; one handler renders {"error", "detail"}."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An error a client should see, with the status it maps to and a message safe to show."""

    status_code = 500
    error = "internal_error"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "detail": self.detail, **self.extra}


class BadRequest(ServiceError):
    status_code = 400
    error = "bad_request"


class Unauthorized(ServiceError):
    status_code = 401
    error = "unauthorized"


class NotFound(ServiceError):
    status_code = 404
    error = "not_found"


class PayloadTooLarge(ServiceError):
    status_code = 413
    error = "payload_too_large"


class Unprocessable(ServiceError):
    status_code = 422
    error = "validation_error"


class RateLimited(ServiceError):
    status_code = 429
    error = "rate_limited"


class UpstreamError(ServiceError):
    status_code = 502
    error = "upstream_error"


class ServiceUnavailable(ServiceError):
    status_code = 503
    error = "service_unavailable"
