"""Live turns (issue 16): a turn with a session runs detached from its response, so a visitor whose
connection dropped can reattach to it, and Stop stops it. No FastAPI here: api/ uses it.

`LiveTurns` is the process's registry, built by the lifespan: it starts turns, finds them by id
for a reattach or a Stop, and at shutdown cancels the turns still running. An ended turn is read
from the store's turn buffer (by any process) once its last events are stored there; until then,
or when the store could not take them, from this process's memory for a little while.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Awaitable, Callable

from ..chat import StopRequest, TurnEvent
from ..settings import Settings
from ..store import TurnBufferStore
from .running import ABANDONED_MESSAGE, PAGE_EVENTS, LiveTurn, follow_stored, owner_gone
from .sync import SYNC_SECONDS, BufferSettings, BufferSync

# An ended turn whose events the store could not take stays in this process's memory this long
# (RESUME_BUFFER_TTL_SECONDS if shorter): a client cut near the end reconnects within seconds, and
# a busy process must not hold minutes of finished answers (each delta an object) in its heap.
ENDED_KEPT_SECONDS = 30


def new_turn_id() -> str:
    """An unguessable id (128 random bits): holding it is what lets a client reattach to or stop
    the turn. The bits come from the OS's CSPRNG in batches, one system call per 256 turns."""
    global _random_bits
    if len(_random_bits) < _TURN_ID_BYTES:
        _random_bits = os.urandom(_TURN_ID_BYTES * 256)
    bits, _random_bits = _random_bits[:_TURN_ID_BYTES], _random_bits[_TURN_ID_BYTES:]
    return base64.urlsafe_b64encode(bits).rstrip(b"=").decode()


_TURN_ID_BYTES = 16
_random_bits = b""


def _forget_random_bits() -> None:
    global _random_bits
    _random_bits = b""  # a forked worker must never hand out its parent's ids


os.register_at_fork(after_in_child=_forget_random_bits)


class LiveTurns:
    def __init__(self, settings: Settings, store: TurnBufferStore | None) -> None:
        self.grace_seconds = settings.resume_grace_seconds
        self.kept_seconds = min(settings.resume_buffer_ttl_seconds, ENDED_KEPT_SECONDS)
        self.buffer_ttl_seconds = settings.resume_buffer_ttl_seconds
        self.sync = (
            None
            if store is None
            else BufferSync(
                BufferSettings(
                    store,
                    settings.resume_buffer_ttl_seconds,
                    settings.resume_max_events,
                    running_ttl_seconds=settings.session_ttl_seconds,
                )
            )
        )
        self._turns: dict[str, LiveTurn] = {}
        self._forget: dict[str, asyncio.TimerHandle] = {}

    def start(
        self,
        turn_id: str,
        session_id: str | None,
        events: AsyncIterator[TurnEvent],
        stop_request: StopRequest,
        on_end: Callable[[LiveTurn, TurnEvent | None], Awaitable[TurnEvent | None]],
        *,
        begun: bool = False,
        stop_on_disconnect: bool = False,
    ) -> LiveTurn:
        """Run `events` (the turn's `run_turn`, sharing `stop_request`) as a live turn; `on_end`
        settles it when it ends and answers its last event. `begun`: its buffer was begun by its
        admission (`BufferSync.begin_step`). `stop_on_disconnect`: its last reader leaving is a
        Stop, not a wait for a reattach."""
        live = LiveTurn(
            turn_id,
            session_id,
            events,
            stop_request,
            grace_seconds=self.grace_seconds,
            on_end=on_end,
            stop_on_disconnect=stop_on_disconnect,
        )
        if self.sync is not None and live.session_id is not None:
            live.synced = self.sync.add(live, live.session_id, begun=begun)
        self._turns[turn_id] = live
        finished = live.synced or live.task
        finished.add_done_callback(lambda _: self._ended(live))
        return live

    def get(self, turn_id: str, session_id: str | None = None) -> LiveTurn | None:
        """The turn with this id on this process, if `session_id` (when given) is its session."""
        live = self._turns.get(turn_id)
        if live is None or (session_id is not None and live.session_id != session_id):
            return None
        return live

    def running(self, session_id: str) -> LiveTurn | None:
        """The session's turn still running on this process, if any."""
        return next((t for t in self._turns.values() if t.session_id == session_id and not t.ended), None)

    def _ended(self, live: LiveTurn) -> None:
        """The turn has ended and its last flush is done: the store serves it from now on, unless
        the flush failed (or there is no store): then this process keeps it a while."""
        synced = live.synced
        if synced is not None and not synced.cancelled() and synced.exception() is None and synced.result():
            self._drop(live.turn_id)
            return
        loop = asyncio.get_running_loop()
        self._forget[live.turn_id] = loop.call_later(self.kept_seconds, self._drop, live.turn_id)

    def _drop(self, turn_id: str) -> None:
        self._turns.pop(turn_id, None)
        self._forget.pop(turn_id, None)

    @property
    def open(self) -> int:
        return sum(not live.ended for live in self._turns.values())

    async def close(self, message: str) -> None:
        """Shutdown: cancel the turns still running (they store nothing) and wait for them to settle."""
        running = [live for live in self._turns.values() if not live.ended]
        for live in running:
            live.cancel(message)
        tasks = [task for live in self._turns.values() for task in (live.task, live.synced) if task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.sync is not None:
            await self.sync.close()
        for handle in self._forget.values():
            handle.cancel()
        self._forget.clear()
        self._turns.clear()


__all__ = [
    "ABANDONED_MESSAGE",
    "PAGE_EVENTS",
    "SYNC_SECONDS",
    "LiveTurn",
    "LiveTurns",
    "follow_stored",
    "new_turn_id",
    "owner_gone",
]
