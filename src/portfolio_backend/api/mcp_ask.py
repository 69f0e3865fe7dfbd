"""An agent's question through the same lifecycle as a visitor's turn (turns/lifecycle.py):
quota, budgets, knowledge, tools, history, settlement, as POST /stream does for a visitor with a
session; the answer is collected to its end rather than streamed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..chat import Error, Sources, TextDelta
from ..errors import NotFound
from ..turns import TurnLifecycle, TurnRequest
from .session_views import parse_session_id


class QuestionRefused(Exception):
    """The question was not answered; the message says why, safe to show the agent."""


@dataclass(slots=True)
class AgentAnswer:
    answer: str
    conversation_id: str
    sources: list[dict[str, Any]] = field(default_factory=list)


async def answer_question(
    turns: TurnLifecycle, visitor: str, question: str, conversation_id: str | None
) -> AgentAnswer:
    """One grounded turn for an agent. A new conversation is a new session (charged as POST /session
    is, in the same step as the turn); `conversation_id` continues one. Raises RateLimited (a quota
    or a budget), ServiceUnavailable, StoreError, or QuestionRefused (an unknown conversation, a
    failed answer)."""
    try:
        session_id = None if conversation_id is None else parse_session_id(conversation_id)
        answer = await turns.start(
            TurnRequest(question, visitor, session_id=session_id, new_session=conversation_id is None)
        )
    except NotFound as exc:  # the 404 a route would answer: here a refusal the agent reads
        raise QuestionRefused(f"Unknown or expired conversation: {conversation_id}") from exc
    text: list[str] = []
    sources: list[dict[str, Any]] = []
    async for event in answer.events:
        if type(event) is TextDelta:
            text.append(event.content)
        elif isinstance(event, Sources):
            sources.extend(event.sources)
        elif isinstance(event, Error):
            raise QuestionRefused(event.message)
    assert answer.session_id is not None  # an agent's turn always has one
    return AgentAnswer("".join(text), answer.session_id, sources)
