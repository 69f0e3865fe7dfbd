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


@dataclass(slots=True)
class Completion:
    """Ends every stream: the assembled tool calls (empty when the model answered in text) and usage."""

    tool_calls: list[ToolCall] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0


Delta = TextDelta | Completion


class LLMProvider(Protocol):
    """A chat model.

    provider: "openai" (any OpenAI-compatible server) or "demo" (offline).
    model: the model name, as /health reports it.
    stream(): yields TextDelta as tokens arrive, then exactly one Completion. Raises LLMError.
    Closing the iterator early (a visitor left) must close the upstream request at once.
    """

    provider: str
    model: str

    def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncGenerator[Delta, None]: ...

    async def close(self) -> None: ...
