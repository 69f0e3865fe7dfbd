"""GET and DELETE /api/chat/{id}/stream: resume an AI SDK chat's running answer, or stop it.

GET is the AI SDK's resume request (`useChat({ resume: true })`, `chat.resumeStream()`): 204 when
the chat has no answer running, else the running answer's UI message stream from its start (the
SDK replays a resumed answer whole: a new encoder given the same events writes the same bytes).
DELETE is the Stop the SDK lacks: its `stop()` only aborts the request, which for a live turn is
a disconnect (docs/ai-sdk.md, "Stop"). Both find the turn from any process (api/live_answers.py).

A chat id names a chat only together with its visitor (store/chats/), so another visitor's chat
id finds nothing: GET answers 204 and DELETE 404, exactly as for a chat that was never used.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import JSONResponse

from ..clock import now_ms
from ..deps import BoundsDep, LimiterDep, LiveTurnsDep, SettingsDep, StoresDep, VisitorDep
from ..errors import NotFound
from ..quota import hold_stream_slot
from ..turns import TURN_ID_HEADER
from ..wire.ui_message import HEADERS, UIMessageEncoder
from .ai_sdk_ids import CHAT_ID_PATTERN
from .live_answers import FoundTurn, running_turn, stop_turn
from .sse import EventStreamResponse

router = APIRouter(tags=["chat"])

ChatId = Annotated[str, Path(pattern=CHAT_ID_PATTERN, description="The chat's id, as sent to POST /api/chat.")]


async def _running_answer(
    chat_id: ChatId, visitor: VisitorDep, stores: StoresDep, live_turns: LiveTurnsDep, settings: SettingsDep
) -> FoundTurn | None:
    """The answer running in the visitor's chat `chat_id`, on any process, or None."""
    session_id = await stores.chats.find(visitor.key, chat_id, now_ms(), settings.session_ttl_seconds)
    if session_id is None:
        return None
    return await running_turn(live_turns, stores.turns, session_id)


RunningAnswer = Annotated[FoundTurn | None, Depends(_running_answer)]


@router.get(
    "/api/chat/{chat_id}/stream",
    response_class=EventStreamResponse,
    status_code=200,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "The running answer's UI message stream from its start, then live until it ends.",
        },
        204: {"description": "No answer is running in this chat (or it is not this visitor's)"},
        422: {"description": "Not a chat id"},
        429: {"description": "The visitor holds MAX_OPEN_STREAMS_PER_VISITOR streams open already"},
    },
)
async def resume(
    found: RunningAnswer,
    stores: StoresDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    limiter: LimiterDep,
    bounds: BoundsDep,
) -> Response:
    """Resume a chat's running answer after a dropped connection or a reload (the AI SDK's resume)."""
    if found is None:
        return Response(status_code=204)
    give_back_slot = await hold_stream_slot(limiter, bounds, visitor.key)
    return EventStreamResponse(
        found.follow(stores.turns, 0),
        encoder=UIMessageEncoder(found.turn_id),
        headers={**HEADERS, TURN_ID_HEADER: found.turn_id},
        keepalive_seconds=settings.keepalive_seconds,
        on_close=give_back_slot,
    )


@router.delete(
    "/api/chat/{chat_id}/stream",
    responses={
        200: {"description": "Stopped: the partial answer is stored, marked stopped"},
        202: {"description": "Stop asked of the process running the answer; it had not ended yet"},
        404: {"description": "No answer is running in this chat (or it is not this visitor's)"},
        422: {"description": "Not a chat id"},
    },
)
async def stop(found: RunningAnswer, stores: StoresDep) -> JSONResponse:
    """Stop a chat's running answer at once, upstream call included; what it had said is kept, marked stopped."""
    if found is None:
        raise NotFound("No answer is running in this chat.")
    return await stop_turn(stores.turns, found)
