"""POST /api/chat: a chat turn for the AI SDK's `useChat`, as its UI message stream (docs/ai-sdk.md).

The same turn as POST /stream (quota, tools, store, errors; refunds through its settle_turn),
in the AI SDK's wire format (wire/ui_message.py). The chat `id` names a session of the visitor
who sends it; the history is the server's, so only the newest user message of a request is read.
The turn is live: GET and DELETE /api/chat/{id}/stream resume and stop it (api/chat_stream.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from ..chat import Turn, TurnReport, before_last_turn
from ..clock import now_ms
from ..deps import TurnContextDep
from ..errors import Unprocessable
from ..quota import charge_turn
from ..settings import Settings
from ..store import SessionRecord, StoreError, Stores
from ..wire.ui_message import HEADERS, UIMessageEncoder
from .body import RequestBody
from .chat_ids import CHAT_ID_PATTERN
from .live_answers import answer_live
from .sse import EventStreamResponse
from .turn_accounting import admit_budget, settle_turn

log = logging.getLogger(__name__)
router = APIRouter(tags=["chat"])


class UIMessagePart(BaseModel):
    """One part of a UI message; only `text` parts are read, the rest are ignored."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class UIMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    role: Literal["system", "user", "assistant"]
    parts: list[UIMessagePart]


class ChatRequest(RequestBody):
    """The body the AI SDK's `DefaultChatTransport` sends; fields it adds from `body` are ignored."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(..., pattern=CHAT_ID_PATTERN, description="The chat: a session of the visitor who sends it.")
    messages: list[UIMessage] = Field(
        ..., min_length=1, description="The chat as the client has it; only the newest user message is read."
    )
    trigger: Literal["submit-message", "regenerate-message"] = Field(
        "submit-message", description="`regenerate-message` replaces the chat's last answer."
    )
    message_id: str | None = Field(None, alias="messageId", description="Unused: edits are sent as new messages.")


def newest_prompt(body: ChatRequest, max_chars: int) -> str:
    """The visitor's newest message: the request's last, which must be a user message with text."""
    last = body.messages[-1]
    if last.role != "user":
        raise Unprocessable("messages: the last message must be the visitor's (role 'user').")
    prompt = "".join(part.text or "" for part in last.parts if part.type == "text")
    if not prompt.strip():
        raise Unprocessable("Prompt cannot be empty")
    if len(prompt) > max_chars:
        raise Unprocessable(f"Prompt is too long: at most {max_chars} characters.")
    return prompt


@router.post(
    "/api/chat",
    response_class=EventStreamResponse,
    status_code=200,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "The AI SDK's UI message stream, protocol v1 (`x-vercel-ai-ui-message-stream: v1`).",
        },
        413: {"description": "Body too large"},
        422: {"description": "Invalid request"},
        429: {"description": "Quota exceeded"},
    },
)
async def chat(body: ChatRequest, context: TurnContextDep) -> EventStreamResponse:
    """Answer an AI SDK chat's newest message (`useChat`), as the UI message stream."""
    settings, stores, visitor = context.settings, context.stores, context.visitor
    turn = Turn(prompt=newest_prompt(body, settings.prompt_max_chars), visitor=visitor.key)
    now = now_ms()
    record = await _chat_session(stores, visitor.key, body.id, now, settings.session_ttl_seconds)
    if record is not None:
        turn.session_id = record.meta.session_id
        turn.history = record.messages
        earlier = before_last_turn(record.messages, turn.prompt) if body.trigger == "regenerate-message" else None
        if earlier is not None:
            turn.history = earlier
            turn.replaces_last_turn = True

    charges = await charge_turn(context.limiter, context.bounds, visitor.key)
    admission = await admit_budget(context, turn, charges)

    def settle(report: TurnReport) -> Awaitable[None]:
        return settle_turn(
            context.limiter, context.metrics, charges, report, context.ledger, admission, turn.session_id
        )

    if turn.session_id is None:
        # a new chat gets its session only now, admitted: a refused request leaves nothing behind
        try:
            turn.session_id = await _start_chat_session(stores, visitor.key, body.id, now, settings)
        except StoreError:
            await settle(TurnReport())  # never started: refunded
            raise
    turn.release_key = charges.open_stream.key if charges else None
    if settings.log_prompts:
        log.info("prompt", extra={"prompt": turn.prompt, "session_id": turn.session_id})
    report = TurnReport()
    headers = {**(charges.turn.headers() if charges else {}), **HEADERS, "X-Session-Id": turn.session_id}
    # a live turn: resumable (GET /api/chat/{id}/stream) and stoppable (DELETE) from any process
    return answer_live(
        context, turn, report, encoder=UIMessageEncoder(), headers=headers, settle=lambda: settle(report)
    )


async def _chat_session(stores: Stores, visitor: str, chat_id: str, now: int, ttl: int) -> SessionRecord | None:
    """The live session `visitor`'s chat is bound to, or None (a new chat, or its session expired)."""
    session_id = await stores.chats.find(visitor, chat_id, now, ttl)
    return None if session_id is None else await stores.sessions.load(session_id, now)


async def _start_chat_session(stores: Stores, visitor: str, chat_id: str, now: int, settings: Settings) -> str:
    """A new session for the visitor's chat, owned by them, with the TTL and cap of POST /session.

    The session id is a new uuid4, never derived from the chat id: a chat id is chosen by the
    client and may be known to others, a session id is a bearer secret (GET /session/{id}).
    """
    meta = await stores.sessions.create(str(uuid.uuid4()), visitor, now, settings.session_ttl_seconds)
    await stores.chats.bind(visitor, chat_id, meta.session_id, now, settings.session_ttl_seconds)
    return meta.session_id
