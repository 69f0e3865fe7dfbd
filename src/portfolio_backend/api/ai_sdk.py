"""POST /api/chat: a chat turn for the AI SDK's `useChat`, as its UI message stream (docs/ai-sdk.md).

The same turn as POST /stream (turns/lifecycle.py: quota, budgets, tools, store, errors, refunds),
in the AI SDK's wire format (wire/ui_message.py). The chat `id` names a session of the visitor
who sends it; the history is the server's, so only the newest user message of a request is read.
The turn is live: GET and DELETE /api/chat/{id}/stream resume and stop it (api/ai_sdk_resume.py).
A dropped request is a Stop unless the body asks for `resume` (the SDK's `stop()` only aborts it).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from ..chat import replaced_turn_start
from ..deps import TurnContextDep
from ..errors import Unprocessable
from ..store import Message
from ..turns import TurnRequest
from ..wire.ui_message import HEADERS, UIMessageEncoder
from .ai_sdk_ids import CHAT_ID_PATTERN
from .body import RequestBody
from .sse import EventStreamResponse

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
    prompt = newest_prompt(body, context.settings.prompt_max_chars)
    request = TurnRequest(
        prompt,
        context.visitor.key,
        chat_id=body.id,
        prompt_client_id=body.messages[-1].id,
        replaced_turn_start=lambda history: _replaced_turn_start(body, history, prompt),
        # the AI SDK's stop() only aborts the request: without `resume`, that is the Stop (issue 25)
        stop_on_disconnect=not body.resume,
    )
    # a live turn: resumable (GET /api/chat/{id}/stream) and stoppable (DELETE) from any process
    answer = await context.turns.start(request)
    assert answer.session_id is not None  # a chat always has one
    return EventStreamResponse(
        answer.events,
        encoder=UIMessageEncoder(answer.turn_id),  # the `start` part names the assistant message by it
        headers={**answer.headers, **HEADERS, "X-Session-Id": answer.session_id},
        keepalive_seconds=context.keepalive_seconds,
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
