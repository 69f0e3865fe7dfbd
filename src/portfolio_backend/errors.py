"""One error tree: every error the service raises on purpose is a `PortfolioError`.

Each carries the HTTP status it maps to; app.py renders any of them that reaches a request, in one
handler, as {"error": <code>, "detail": <message safe to show>}.

    PortfolioError                      500 internal_error
    ├── ServiceError                    what a route answers: the subclasses below, each with its status
    │   ├── BadRequest                  400
    │   ├── Unauthorized                401
    │   ├── NotFound                    404
    │   ├── Conflict                    409, the request does not fit the state it would change
    │   ├── Unprocessable               422
    │   ├── RateLimited                 429, with the quota's headers
    │   └── ServiceUnavailable          503, for a reason other than the store (the knowledge index)
    ├── StoreError                      503: the store could not be reached or failed; one message
    ├── StartupError                    a setting or file is wrong; start-up stops with the reason
    ├── LLMError (llm/base.py)          502: the model could not answer; a turn reports it as an event
    ├── ToolError (tools/base.py)       a tool failed; the model reads the message as the tool's result
    ├── UnknownTool, InvalidArguments   (tools/registry.py) POST /tools/test answers them 404 and 422
    └── KnowledgeError, UnreadableSource, EmbeddingsUnavailable (knowledge/): caught where they happen

Where a caller deliberately degrades instead (health reports the store as down, a turn's
settlement logs and carries on, a tool returns an error result), it catches the error itself;
everywhere else the error propagates to the one handler.
"""

from __future__ import annotations

from typing import Any, ClassVar

STORE_UNAVAILABLE = "Storage is unavailable. Please try again shortly."


class PortfolioError(Exception):
    """Root of the tree. The message must be safe to show a visitor unless `public_detail` says otherwise."""

    status_code: ClassVar[int] = 500
    error: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}

    @property
    def public_detail(self) -> str:
        return str(self)

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "detail": self.public_detail}


class ServiceError(PortfolioError):
    """An answer a route gives on purpose; `extra` adds fields to the JSON body (a 429's limit, reset...)."""

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail, headers=headers)
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {**super().body(), **self.extra}


class BadRequest(ServiceError):
    status_code = 400
    error = "bad_request"


class Unauthorized(ServiceError):
    status_code = 401
    error = "unauthorized"


class NotFound(ServiceError):
    status_code = 404
    error = "not_found"


class Conflict(ServiceError):
    status_code = 409
    error = "conflict"


class Unprocessable(ServiceError):
    status_code = 422
    error = "validation_error"


class RateLimited(ServiceError):
    status_code = 429
    error = "rate_limited"


class ServiceUnavailable(ServiceError):
    status_code = 503
    error = "service_unavailable"


class StoreError(PortfolioError):
    """The store could not be reached or answered with an error; backends raise only this.

    The message names the backend and what failed, for the log; a visitor reads `STORE_UNAVAILABLE`.
    """

    status_code = 503
    error = "service_unavailable"

    @property
    def public_detail(self) -> str:
        return STORE_UNAVAILABLE


class StartupError(PortfolioError):
    """A setting or file the service needs is wrong; the message says which and how to fix it."""
