"""POST /api/chat: a chat turn for the AI SDK's `useChat`, as its UI message stream (docs/ai-sdk.md).

The same turn as POST /stream (quota, tools, store, errors; refunds through its settle_turn),
in the AI SDK's wire format (wire/ui_message.py). The chat `id` names a session of the visitor
who sends it; the history is the server's, so only the newest user message of a request is read.
The turn is live: GET and DELETE /api/chat/{id}/stream resume and stop it (api/chat_stream.py).
A dropped request is a Stop unless the body asks for `resume` (the SDK's `stop()` only aborts it).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from ..chat import Turn, TurnReport, replaced_turn_start
from ..clock import now_ms
from ..deps import TurnContextDep
from ..errors import Unprocessable
from ..logs import log_prompt
from ..quota import charge_turn
from ..settings import Settings
from ..store import Message, SessionRecord, StoreError, Stores
from ..wire.ui_message import HEADERS, UIMessageEncoder
from .body import RequestBody
from .chat_ids import CHAT_ID_PATTERN
from .live_answers import answer_live
from .sse import EventStreamResponse
from .turn_accounting import admit_budget, give_back_session, settle_turn

router = APIRouter(tags=["chat"])


class UIMessagePart(BaseModel):
    """One part of a UI message; only `text` parts are read, the rest are ignored."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class UIMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    # the client's id: kept with the visitor's message, so an edit can name it (the SDK's are 16 characters)
    id: str = Field(..., max_length=256)
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
    message_id: str | None = Field(
        None,
        alias="messageId",
        description="With `submit-message`, the id of the last message when it is an edit of a message sent before: "
        "it replaces the chat's last turn, and an earlier message is refused (409).",
    )
    resume: bool = Field(
        False,
        description="true: a dropped request leaves the answer running for RESUME_GRACE_SECONDS, to resume "
        "(GET /api/chat/{id}/stream). false (the default): a dropped request is a Stop, as `useChat`'s `stop()` "
        "(which only aborts it) means: the answer so far is kept, marked stopped (docs/ai-sdk.md).",
    )


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
        409: {"description": "An edit or regenerate of a message before the chat's last one"},
        413: {"description": "Body too large"},
        422: {"description": "Invalid request"},
        429: {"description": "Quota exceeded"},
    },
)
async def chat(body: ChatRequest, context: TurnContextDep) -> EventStreamResponse:
    """Answer an AI SDK chat's newest message (`useChat`), as the UI message stream."""
    settings, stores, visitor = context.settings, context.stores, context.visitor
    prompt, prompt_id = newest_prompt(body, settings.prompt_max_chars), body.messages[-1].id
    turn = Turn(prompt=prompt, visitor=visitor.key, prompt_client_id=prompt_id)
    now = now_ms()
    record = await _chat_session(stores, visitor.key, body.id, now, settings.session_ttl_seconds)
    if record is not None:
        turn.session_id = record.meta.session_id
        turn.history = record.messages
        start = _replaced_turn_start(body, record.messages, prompt)
        if start is not None:
            turn.history = record.messages[:start]
            turn.replaces_last_turn = True

    charges = await charge_turn(context.limiter, context.bounds, visitor.key, new_session=turn.session_id is None)
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
            await give_back_session(context.limiter, charges)  # and no session was made
            raise
    turn.release_key = charges.open_stream.key if charges else None
    if settings.log_prompts:
        log_prompt(turn.prompt, turn.session_id)
    report = TurnReport()
    headers = {**(charges.turn.headers() if charges else {}), **HEADERS, "X-Session-Id": turn.session_id}
    # a live turn: resumable (GET /api/chat/{id}/stream) and stoppable (DELETE) from any process
    return answer_live(
        context,
        turn,
        report,
        encoder=UIMessageEncoder(),
        headers=headers,
        settle=lambda: settle(report),
        stop_on_disconnect=not body.resume,
    )


def _replaced_turn_start(body: ChatRequest, history: list[Message], prompt: str) -> int | None:
    """Where the turn a regenerate or an edit replaces starts (chat/replacement.py); None for a new turn.

    Both name the message they answer again by its id: a regenerate resends it as the last message
    (its `messageId`, if any, is the answer's, which the server never knew); an edit's `messageId`
    is the id of the message it changes, which `sendMessage({text, messageId})` sends last."""
    last_id = body.messages[-1].id
    if body.trigger == "regenerate-message":
        return replaced_turn_start(history, last_id, same_text=prompt)
    if body.message_id == last_id:
        return replaced_turn_start(history, last_id)
    return None


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
