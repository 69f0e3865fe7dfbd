"""An agent's question through the same lifecycle as a visitor's turn: `answer_question`.

Quota charge, budget admission, the whole turn (knowledge, tools, owner answers, history), then
settlement, exactly as POST /stream does for a visitor with a session; the answer is collected to
its end rather than streamed. This is the one place the MCP server reaches the turn lifecycle, so
when that lifecycle moves into its own module this function is the one to rewire.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ..chat import Error, Sources, TextDelta, Turn, TurnReport
from ..clock import now_ms
from ..deps import TurnContext
from ..errors import NotFound
from ..logs import log_prompt
from ..quota import charge_turn
from .session_views import parse_session_id
from .turn_accounting import admit_budget, give_back_session, settle_turn


class QuestionRefused(Exception):
    """The question was not answered; the message says why, safe to show the agent."""


@dataclass(slots=True)
class AgentAnswer:
    answer: str
    conversation_id: str
    sources: list[dict[str, Any]] = field(default_factory=list)


async def answer_question(context: TurnContext, question: str, conversation_id: str | None) -> AgentAnswer:
    """One grounded turn for an agent. A new conversation is a new session (charged as POST /session
    is, in the same step as the turn); `conversation_id` continues one. Raises RateLimited (a quota
    or a budget), StoreError, or QuestionRefused (an unknown conversation, a failed answer)."""
    settings, stores = context.settings, context.stores
    turn = Turn(prompt=question, visitor=context.visitor.key)
    now = now_ms()
    if conversation_id is not None:
        try:
            turn.session_id = parse_session_id(conversation_id)
        except NotFound as exc:  # the 404 a route would answer: here a refusal the agent reads
            raise QuestionRefused(f"Unknown or expired conversation: {conversation_id}") from exc
        record = await stores.sessions.load(turn.session_id, now)
        if record is None:
            raise QuestionRefused(f"Unknown or expired conversation: {conversation_id}")
        turn.history = record.messages
    charges = await charge_turn(
        context.limiter, context.bounds, context.visitor.key, new_session=conversation_id is None
    )
    if charges is not None:
        turn.release_key = charges.open_stream.key
    admission = await admit_budget(context, turn, charges)  # a refusal gives every charge back
    if settings.log_prompts:
        log_prompt(question, conversation_id)
    report = TurnReport()
    text: list[str] = []
    sources: list[dict[str, Any]] = []
    failure: str | None = None
    try:
        if turn.session_id is None:  # a new conversation: its session, once the turn is admitted
            try:
                meta = await stores.sessions.create(str(uuid.uuid4()), turn.visitor, now, settings.session_ttl_seconds)
            except BaseException:
                await give_back_session(context.limiter, charges)  # the turn's own: settlement, below
                raise
            turn.session_id = meta.session_id
        async for event in context.chat.run_turn(turn, report):
            if type(event) is TextDelta:
                text.append(event.content)
            elif isinstance(event, Sources):
                sources.extend(event.sources)
            elif isinstance(event, Error):
                failure = event.message
    finally:
        await settle_turn(context.limiter, context.metrics, charges, report, context.ledger, admission, turn.session_id)
    if failure is not None:
        raise QuestionRefused(failure)
    assert turn.session_id is not None
    return AgentAnswer("".join(text), turn.session_id, sources)
