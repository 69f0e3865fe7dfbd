"""The model contract: stream one completion as text deltas, then the tool calls it asked for."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import PortfolioError


class LLMError(PortfolioError):
    """The model could not answer. `message` is safe to show a visitor: it never holds a secret."""

    status_code = 502
    error = "upstream_error"

    def __init__(self, message: str, *, kind: str = "error", retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind  # a metrics label: timeout, connection, rate_limited, auth, status_NNN, stream
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class TextDelta:
    content: str


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str

    def upstream(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens one model call (or a sum of them) used. `cached_tokens` is the part of
    `prompt_tokens` the server read from its prompt cache (billed cheaper). `estimated` is true when
    any part was counted by us because the server reported none (field note 13: unknown is
    estimated, never zero)."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.cached_tokens + other.cached_tokens,
            self.completion_tokens + other.completion_tokens,
            self.estimated or other.estimated,
        )


@dataclass(slots=True)
class Completion:
    """Ends every stream: the assembled tool calls (empty when the model answered in text) and the
    usage the server reported (None when it sent none: the caller estimates)."""

    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None


Delta = TextDelta | Completion


class LLMProvider(Protocol):
    """A chat model.

    provider: "openai" (any OpenAI-compatible server) or "demo" (offline).
    model: the model name, as /health reports it.
    stream(): yields TextDelta as tokens arrive, then exactly one Completion (with the server's
        usage when it reported any). Raises LLMError.
    Closing the iterator early (a visitor left) must close the upstream request at once.
    """

    provider: str
    model: str

    def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncGenerator[Delta, None]: ...

    async def close(self) -> None: ...
