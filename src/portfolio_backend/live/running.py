"""A live turn: a chat turn running in its own task, detached from the response that started it.

The turn's events are numbered 1, 2, 3... (`seq`) and kept in a list while it runs, so a visitor
whose connection dropped can reattach and get the events after the last one they saw. Subscribers
(the POST response, then any reattach on this process) read the list and wait for the next
append; appending is a list append and, when someone waits, one future set: no store I/O and no
object per chunk besides the delta itself.

Across processes: the process's flusher (sync.py) stores the events not yet stored in the turn
buffer (store/turn_buffers/) every SYNC_SECONDS, and learns whether another process asked to stop the
turn and when a follower elsewhere last read it; the last flush, after the turn ends, marks it
ended. A follower on another process reads the buffer (`follow_stored`).

Disconnect vs stop: when the last subscriber leaves, the turn keeps running for the grace period
and is cancelled, upstream request included, if nobody has read it since, here or on another
process (`expire`); that stores nothing, as a visitor leaving always did. `stop()` is the
visitor's Stop: the turn is cancelled at once and stores what it had answered, marked stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from ..chat import End, Error, StopRequest, TextDelta, TurnEvent
from ..clock import now_ms
from ..store import TurnBufferStore, TurnPage
from .codec import decode_event
from .sync import SYNC_SECONDS

log = logging.getLogger(__name__)

ABANDONED_MESSAGE = "The answer was cancelled: nobody was reading it."
OVERFLOW_MESSAGE = "This answer is too long to resume here. Please ask again."
GONE_MESSAGE = "This answer is no longer available. Please ask again."
# A running turn's process appends to its buffer every SYNC_SECONDS; one that has not for this
# long is gone, and followers elsewhere stop waiting (a busy process is late by far less)
OWNER_GONE_SECONDS = 5.0
# Events a follower reads per round trip: a whole long answer in a few pages, each page small.
PAGE_EVENTS = 1000


class LiveTurn:
    """One running turn, its events so far, and who reads them.

    `on_end` runs once when the turn has run, however it ended, and before its last event (End or
    Error) is published: settlement (history, quota refunds, the open-stream slot, usage, metrics)
    belongs to the turn, not to whichever response was reading it, and is done when a reader
    learns of the end. It is given the last event and answers the one to publish (an answer the
    store could not keep ends in an error instead).
    """

    def __init__(
        self,
        turn_id: str,
        session_id: str | None,
        events: AsyncIterator[TurnEvent],
        stop_request: StopRequest,
        *,
        grace_seconds: float,
        on_end: Callable[[LiveTurn, TurnEvent | None], Awaitable[TurnEvent | None]],
        stop_on_disconnect: bool = False,
    ) -> None:
        self.turn_id = turn_id
        # True: when its last reader leaves, the turn is stopped, not kept for a reattach (a
        # non-resumable /api/chat request: the AI SDK's stop() only aborts it, issue 25)
        self.stop_on_disconnect = stop_on_disconnect
        self.stop_request = stop_request
        self.session_id = session_id
        self.events: list[TurnEvent] = []  # events[i] has seq i + 1
        self.ended = False
        self._settling = False  # the turn has run; its last event waits for `on_end`
        self.grace_seconds = grace_seconds
        self.subscribers = 0
        self._waiters: list[asyncio.Future[None]] = []
        self._grace: asyncio.TimerHandle | None = None
        self._cancel_message = ABANDONED_MESSAGE
        self._on_end = on_end
        self.last_follow_ms = 0  # the newest read by a follower on another process
        self.task = asyncio.create_task(self._run(events), name=f"live-turn-{turn_id[:6]}")
        # set when the turn's events are kept in the store (sync.py): done once the turn has ended
        # and its last events are stored, True if they were
        self.synced: asyncio.Future[bool] | None = None
        # until its response starts reading it, nobody reads it: a response that never starts
        # (the client left first) leaves a turn the grace period ends
        self._start_grace()

    @property
    def last_seq(self) -> int:
        return len(self.events)

    async def _run(self, events: AsyncIterator[TurnEvent]) -> None:
        append = self.events.append
        last: TurnEvent | None = None  # End or Error: published once the turn is settled
        try:
            try:
                async for event in events:
                    if type(event) is not TextDelta and isinstance(event, End | Error):
                        last = event
                        continue
                    append(event)
                    if self._waiters:
                        self._wake()
            except asyncio.CancelledError:
                # grace expiry or shutdown: the turn ends here, stored nothing (run_turn let the
                # cancellation through); readers elsewhere are told why
                task = asyncio.current_task()
                assert task is not None
                task.uncancel()
                last = Error(self._cancel_message)
        finally:
            # Settle first, then announce the end: a client that has the turn's last event (the
            # AI SDK acts on it at once) finds its quota settled, a refund included, if it asks.
            self._settling = True
            self._cancel_grace()
            try:
                last = await asyncio.shield(self._on_end(self, last))
            except Exception:
                log.exception("settling live turn %s failed", self.turn_id[:6])
            finally:
                if last is not None:
                    append(last)
                self.ended = True
                self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def follow(self, after: int = 0) -> AsyncIterator[TurnEvent]:
        """The events with seq > `after`, as they come, until the turn ends.

        While a subscriber reads, the turn is not left: the grace timer is off. An `after` beyond
        the last event waits for the events to get there.
        """
        self._attach()
        try:
            index = max(after, 0)
            events = self.events
            loop = asyncio.get_running_loop()
            while True:
                while index < len(events):
                    yield events[index]
                    index += 1
                if self.ended:
                    return
                waiter = loop.create_future()
                self._waiters.append(waiter)
                await waiter
        finally:
            self._detach()

    def _attach(self) -> None:
        self.subscribers += 1
        self._cancel_grace()

    def _detach(self) -> None:
        self.subscribers -= 1
        if self.subscribers == 0 and not self.ended:
            if self.stop_on_disconnect:
                self.stop()
            else:
                self._start_grace()

    def _start_grace(self) -> None:
        self._cancel_grace()
        self._grace = asyncio.get_running_loop().call_later(self.grace_seconds, self.expire)

    def _cancel_grace(self) -> None:
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    def expire(self) -> None:
        """Nobody came back within the grace period: cancel the turn, upstream included. A
        follower on another process that read it within the period keeps it going."""
        self._grace = None
        if self.subscribers or self.ended:
            return
        if now_ms() - self.last_follow_ms < self.grace_seconds * 1000:
            self._start_grace()
            return
        self.cancel(ABANDONED_MESSAGE)

    def cancel(self, message: str) -> None:
        """End the turn now, storing nothing; readers get an `error` event with `message`. A turn
        being settled (storing its answer) is let finish: a cancel there could cut the append
        after the store ran it, and tell readers nothing was kept."""
        if not self.ended and not self._settling:
            self._cancel_message = message
            self.task.cancel()

    def stop(self) -> bool:
        """The visitor's Stop: cancel at once and store the partial answer, marked stopped.

        False when the turn has already ended or is being settled (it has run: its answer, complete
        or not, is being stored and ends it a moment later).
        """
        if self.ended or self._settling:
            return False
        if not self.stop_request.requested:
            self.stop_request.requested = True
            self.task.cancel()
        return True


def owner_gone(page: TurnPage, ttl_seconds: int, now: int) -> bool:
    """Whether the process running this unfinished turn is gone (killed, crashed, cut off from
    the store): it has not appended to the buffer for OWNER_GONE_SECONDS, though it does every
    SYNC_SECONDS while the turn runs. Each append sets the expiry `ttl_seconds` ahead."""
    last_append = page.expires_at - ttl_seconds * 1000
    return not page.finished and now - last_append > OWNER_GONE_SECONDS * 1000


async def follow_stored(
    store: TurnBufferStore, turn_id: str, first: TurnPage, after: int, ttl_seconds: int
) -> AsyncIterator[TurnEvent]:
    """A turn another process runs, from its buffer: `first` (read by the caller, which checked
    the turn exists) and then a read every SYNC_SECONDS until the turn has ended, or its process
    is gone (`owner_gone`: `ttl_seconds` is RESUME_BUFFER_TTL_SECONDS)."""
    page: TurnPage | None = first
    while page is not None:
        for seq, body in page.events:
            yield decode_event(body)
            after = seq
        if page.ended:
            if page.overflowed:
                yield Error(OVERFLOW_MESSAGE)
            return
        if owner_gone(page, ttl_seconds, now_ms()):
            break
        if len(page.events) < PAGE_EVENTS:  # caught up: wait for more
            await asyncio.sleep(SYNC_SECONDS)
        page = await store.read(turn_id, after, PAGE_EVENTS, now_ms())
    yield Error(GONE_MESSAGE)  # expired while we read it, or its process is gone
