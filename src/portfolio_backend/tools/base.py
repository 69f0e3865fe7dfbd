"""The Tool contract: a name, a description, a pydantic argument model and an async `run`."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from ..errors import PortfolioError
from ..knowledge.query import STOPWORDS

if TYPE_CHECKING:
    import httpx2

    from ..knowledge import Passage
    from ..quota import Limiter
    from ..settings import Settings
    from ..store import Stores

ArgsT = TypeVar("ArgsT", bound=BaseModel)

_WORD = re.compile(r"[^\W_]{3,}")


class ToolError(PortfolioError):
    """A failure the model (and the visitor) should be told about in plain words."""


@dataclass(slots=True)
class ToolContext:
    """What a tool may reach. `session_id` is the conversation's own session, never one the model names.

    `visitor_text`: everything the visitor wrote in this conversation, in a chat turn (None when a tool
    is run directly through /tools/test). Tools with side effects check their arguments against it, so
    text the model read elsewhere (a page's "ignore previous instructions") cannot steer them.
    `visitor_messages`: the same, message by message (the newest last).
    `passages_found`: knowledge passages a tool looked up in this turn, for the sources shown.
    `limiter`: the app's quota limiter (its clock, RATE_LIMIT_FAIL_OPEN); the registry sets it.
    """

    settings: Settings
    stores: Stores
    http: httpx2.AsyncClient
    visitor: str
    session_id: str | None = None
    visitor_text: str | None = None
    passages_found: list[Passage] = field(default_factory=list)
    visitor_messages: list[str] | None = None
    limiter: Limiter | None = None

    def visitor_wrote(self, text: str) -> bool:
        """Whether `text` shares a word (3+ letters, not a common one) with what the visitor wrote.
        Always true outside a chat turn (/tools/test), where the caller writes the arguments."""
        return self.visitor_text is None or _shares_a_word(text, self.visitor_text)

    def visitor_message_about(self, text: str) -> str | None:
        """The visitor's newest message that shares a word with `text`, in their own words; None if
        none does. `text` itself outside a chat turn (/tools/test), where the caller writes it."""
        if self.visitor_text is None:
            return text
        messages = self.visitor_messages if self.visitor_messages is not None else [self.visitor_text]
        return next((message for message in reversed(messages) if _shares_a_word(text, message)), None)


def _shares_a_word(text: str, written: str) -> bool:
    words = set(_WORD.findall(written.lower()))
    return any(word in words for word in _WORD.findall(text.lower()) if word not in STOPWORDS)


class Tool(ABC, Generic[ArgsT]):
    """One tool offered to the model.

    name: the function name the model calls.
    label: what the chat widget shows a visitor when the assistant used it, in the past tense
        ("Checked the time"); GET /widget/config serves it. Empty: the widget names the tool in words.
    description: what the model reads to decide when to call it.
    Args: pydantic model of the arguments; its JSON Schema is what the model and GET /tools see.
    origin: "built-in", or "mcp:<server>" for a tool of one of the owner's MCP servers (GET /tools).
    timeout_seconds: its own time bound; None: TOOL_TIMEOUT_SECONDS.
    run(): returns the result text; raises ToolError for a failure to report. It must not block
    the event loop; the registry bounds its time and result size.
    """

    # plain attributes rather than ClassVars: an MCP server's tools are instances named at run time
    name: str
    label: str = ""
    description: str
    origin: str = "built-in"
    timeout_seconds: float | None = None
    Args: ClassVar[type[BaseModel]]

    def parameters(self) -> dict[str, Any]:
        """The JSON Schema of the arguments, as the model and GET /tools see it."""
        return self.Args.model_json_schema()

    def enabled(self, settings: Settings) -> bool:
        """Whether the tool is configured; disabled tools are listed but not offered to the model."""
        return True

    @abstractmethod
    async def run(self, args: ArgsT, ctx: ToolContext) -> str: ...
