"""Live answers over HTTP, shared by POST /stream and POST /api/chat and their reattach and Stop routes.

A turn with a session runs as a live turn (live/): the POST's response follows it, the header
`X-Turn-Id` names it, and any process finds it again, by turn id or as a session's running turn,
in its own memory or through the store's turn buffer (store/turns/). Each protocol keeps its own
routes and wire format; what they do with a live turn is here, so no router imports another.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from fastapi.responses import JSONResponse

from ..chat import Turn, TurnEvent, TurnReport
from ..clock import now_ms
from ..deps import TurnContext
from ..errors import NotFound
from ..live import PAGE_EVENTS, SYNC_SECONDS, LiveTurn, LiveTurns, follow_stored, owner_gone
from ..store import TurnBufferStore, TurnPage
from ..wire import EventEncoder
from .sse import EventStreamResponse

TURN_ID_HEADER = "X-Turn-Id"
# What `new_turn_id()` makes (22 url-safe characters); anything else names no turn
TURN_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# How long a Stop waits for the stopped turn to store its partial answer before answering
STOP_WAIT_SECONDS = 5.0
# A seq no turn reaches: reading after it gives a buffer's state without its events
PAST_THE_END = 10**12


def answer_live(
    context: TurnContext,
    turn: Turn,
    report: TurnReport,
    *,
    encoder: EventEncoder,
    headers: dict[str, str],
    settle: Callable[[], Awaitable[None]],
    stop_on_disconnect: bool = False,
) -> EventStreamResponse:
    """Run the turn (it has a session) as a live turn and answer with its events from the start.

    `settle` runs when the turn ends, which may be long after this response closed: a visitor
    who disconnects leaves the turn running for the grace period, for a reattach, unless
    `stop_on_disconnect`, when leaving is a Stop."""
    live = context.live.start(
        turn, context.chat.run_turn(turn, report), on_end=settle, stop_on_disconnect=stop_on_disconnect
    )
    return EventStreamResponse(
        live.follow(0),
        encoder=encoder,
        headers={**headers, TURN_ID_HEADER: live.turn_id},
        keepalive_seconds=context.settings.keepalive_seconds,
    )


@dataclass(frozen=True, slots=True)
class FoundTurn:
    """A live turn found by id: running on this process, or known from its buffer (`page`: the
    events after the seq the caller asked for) because another process runs it or it has ended."""

    turn_id: str
    live: LiveTurn | None
    page: TurnPage | None
    buffer_ttl_seconds: int = 0  # RESUME_BUFFER_TTL_SECONDS, for a turn known from its buffer

    def follow(self, buffers: TurnBufferStore, after: int) -> AsyncIterator[TurnEvent]:
        """Its events with seq > `after`, then the rest as they come, until it ends."""
        if self.live is not None:
            return self.live.follow(after)
        assert self.page is not None
        return follow_stored(buffers, self.turn_id, self.page, after, self.buffer_ttl_seconds)


async def find_turn(
    live_turns: LiveTurns, buffers: TurnBufferStore, turn_id: str, session_id: str | None, after: int
) -> FoundTurn | None:
    """The turn `turn_id`, if it exists and (when `session_id` is given) is that session's."""
    if not TURN_ID.match(turn_id):
        return None
    live = live_turns.get(turn_id, session_id)
    if live is not None:
        return FoundTurn(turn_id, live, None)
    now = now_ms()
    page = await buffers.read(turn_id, after, PAGE_EVENTS, now)
    if page is None or (session_id is not None and page.session_id != session_id):
        return None
    if owner_gone(page, live_turns.buffer_ttl_seconds, now):
        return None  # the process running it was killed or cut off: it will never end
    return FoundTurn(turn_id, None, page, live_turns.buffer_ttl_seconds)


async def running_turn(live_turns: LiveTurns, buffers: TurnBufferStore, session_id: str) -> FoundTurn | None:
    """The session's running turn, with its events from the first: on this process, else any
    process's as the store knows it (which learns of a turn at its first sync, SYNC_SECONDS)."""
    live = live_turns.running(session_id)
    if live is not None:
        return FoundTurn(live.turn_id, live, None)
    turn_id = await buffers.running_turn(session_id)
    if turn_id is None or live_turns.get(turn_id) is not None:
        # one this process ran has ended (`running` did not find it), whatever its buffer says
        # until the last flush, a moment later
        return None
    return await find_turn(live_turns, buffers, turn_id, session_id, 0)


async def stop_turn(buffers: TurnBufferStore, found: FoundTurn) -> JSONResponse:
    """Stop the turn at once, upstream call included; it stores what it had answered, marked stopped.

    On this process the turn is cancelled now; on another, the buffer's stop flag reaches it at
    its next sync (a tenth of a second). 200 once it has ended, 202 if it had not within
    STOP_WAIT_SECONDS; 404 if it had already ended.
    """
    if found.live is not None:
        if not found.live.stop():
            raise NotFound("The turn has already ended.")
        await asyncio.wait({found.live.task}, timeout=STOP_WAIT_SECONDS)
        return _stopped(found.turn_id, done=found.live.ended)
    assert found.page is not None
    if found.page.ended or not await buffers.request_stop(found.turn_id):
        raise NotFound("The turn has already ended.")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_WAIT_SECONDS
    while loop.time() < deadline:
        await asyncio.sleep(SYNC_SECONDS)  # polling the buffer: the owner ends the turn at its next sync
        page = await buffers.read(found.turn_id, PAST_THE_END, 1, now_ms())
        if page is None or page.ended:
            return _stopped(found.turn_id, done=True)
    return _stopped(found.turn_id, done=False)


def _stopped(turn_id: str, *, done: bool) -> JSONResponse:
    if done:
        return JSONResponse({"turn_id": turn_id, "message": "The answer was stopped."})
    return JSONResponse({"turn_id": turn_id, "message": "Stop requested."}, status_code=202)
