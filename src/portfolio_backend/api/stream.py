"""POST /stream: one chat turn as Server-Sent Events; GET and DELETE /stream/{turn_id}: reattach, Stop.

A turn with a session is live (live/): it runs detached from the response, whose header
`X-Turn-Id` names it, so a visitor whose connection dropped can reattach and get the rest, and
Stop stops it. A turn without a session streams directly, as before: no session, no resume.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from pydantic import Field, field_validator

from ..deps import BoundsDep, LimiterDep, LiveTurnsDep, SettingsDep, StoresDep, TurnContextDep, VisitorDep
from ..errors import NotFound, Unprocessable
from ..live import LiveTurns
from ..quota import hold_stream_slot
from ..store import TurnBufferStore
from ..turns import TURN_ID_HEADER, TurnRequest
from ..wire.seed_events import StreamEncoder
from .body import RequestBody
from .live_answers import PAST_THE_END, FoundTurn, find_turn, stop_turn
from .session_views import parse_session_id
from .sse import EventStreamResponse

router = APIRouter(tags=["chat"])


class StreamRequest(RequestBody):
    prompt: str = Field(
        ...,
        description="The visitor's message.",
        examples=["What is the current time?"],
    )
    session_id: str | None = Field(None, max_length=64, description="Continue this session's conversation.")

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Prompt cannot be empty")
        return value


@router.post(
    "/stream",
    response_class=EventStreamResponse,
    status_code=200,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`data: <json>` events: chunk, tool_result, end, error.",
        },
        404: {"description": "Unknown session"},
        422: {"description": "Invalid request"},
        429: {"description": "Quota exceeded"},
    },
)
async def stream(body: StreamRequest, context: TurnContextDep) -> EventStreamResponse:
    """Stream the assistant's answer to a prompt, token by token, with tool results."""
    if len(body.prompt) > context.settings.prompt_max_chars:
        raise Unprocessable(f"Prompt is too long: at most {context.settings.prompt_max_chars} characters.")
    session_id = None if body.session_id is None else parse_session_id(body.session_id)
    answer = await context.turns.start(TurnRequest(body.prompt, context.visitor.key, session_id=session_id))
    return EventStreamResponse(
        answer.events,
        encoder=StreamEncoder(),
        headers=answer.headers,
        keepalive_seconds=context.keepalive_seconds,
        on_close=answer.on_close,
    )


async def _find(
    live_turns: LiveTurns, buffers: TurnBufferStore, turn_id: str, session_id: str | None, after: int
) -> FoundTurn:
    """The turn, on this process or through its buffer; 404 if unknown, expired, of another
    session, or not a turn id."""
    session = None if session_id is None else parse_session_id(session_id)
    found = await find_turn(live_turns, buffers, turn_id, session, after)
    if found is None:
        raise NotFound("Turn not found or expired.")
    return found


# past any turn's last seq (RESUME_MAX_EVENTS is far below), and within every store's integers
MAX_SEQ = 10**9


def _resume_point(after: int | None, last_event_id: str | None) -> int:
    """The seq the client saw last: `?after=N`, else the `Last-Event-ID` header, else 0 (all)."""
    if after is not None:
        return after
    if last_event_id is None or not last_event_id.strip():
        return 0
    if not re.fullmatch(r"[0-9]{1,10}", last_event_id.strip()) or int(last_event_id) > MAX_SEQ:
        raise Unprocessable(f"Last-Event-ID: must be the seq of the last event received (0 to {MAX_SEQ}).")
    return int(last_event_id)


@router.get(
    "/stream/{turn_id}",
    response_class=EventStreamResponse,
    status_code=200,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "The turn's events with seq > `after`, then live until it ends; the format of POST /stream.",
        },
        404: {"description": "Unknown or expired turn, or not of `session_id`"},
        429: {"description": "The visitor holds MAX_OPEN_STREAMS_PER_VISITOR streams open already"},
    },
)
async def reattach(
    turn_id: str,
    live_turns: LiveTurnsDep,
    stores: StoresDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    limiter: LimiterDep,
    bounds: BoundsDep,
    after: Annotated[int | None, Query(ge=0, le=MAX_SEQ, description="The seq of the last event received.")] = None,
    session_id: Annotated[str | None, Query(max_length=64, description="When given, must be the turn's.")] = None,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> EventStreamResponse:
    """Reattach to a turn after a dropped connection: the events after `after`, then the rest live."""
    resume_at = _resume_point(after, last_event_id)
    found = await _find(live_turns, stores.turns, turn_id, session_id, resume_at)
    give_back_slot = await hold_stream_slot(limiter, bounds, visitor.key)
    return EventStreamResponse(
        found.follow(stores.turns, resume_at),
        encoder=StreamEncoder(after=resume_at),
        headers={TURN_ID_HEADER: turn_id},
        keepalive_seconds=settings.keepalive_seconds,
        on_close=give_back_slot,
    )


@router.delete(
    "/stream/{turn_id}",
    responses={
        200: {"description": "Stopped: the partial answer is stored, marked stopped"},
        202: {"description": "Stop asked of the process running the turn; it had not ended yet"},
        404: {"description": "Unknown, expired or already ended turn"},
    },
)
async def stop(
    turn_id: str,
    live_turns: LiveTurnsDep,
    stores: StoresDep,
    session_id: Annotated[str | None, Query(max_length=64, description="When given, must be the turn's.")] = None,
) -> JSONResponse:
    """Stop a turn at once, upstream call included; what it had answered is kept, marked stopped.

    Its stream ends with `{"type":"end","stopped":true}`. On another process than the one running
    the turn, the stop reaches it within a tenth of a second (its next sync with the store).
    """
    found = await _find(live_turns, stores.turns, turn_id, session_id, PAST_THE_END)
    return await stop_turn(stores.turns, found)
