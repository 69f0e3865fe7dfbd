"""Keeping live turns' events in the store's turn buffer, for readers and Stops on other processes.

One flusher per process: every SYNC_SECONDS it sends the new events of ALL the process's running
turns in one round trip (`TurnBufferStore.append_many`), and learns for each whether another
process asked to stop it and when a follower elsewhere last read it. A round trip per turn instead
was ten a second per open turn, a thousand at a hundred turns in flight: most of what resume cost
in CPU per chunk (docs/performance.md). A turn's first append begins its buffer; the append after
it has ended is its last, and resolves the future `add` returned.

The last append is the turn's settlement's (`final_step`): its remaining events and its last one go
in the same round trip as its history and accounting, so a turn that ends before the first flush
(SYNC_SECONDS after it starts) writes its events once. When that round trip fails, the flusher
tries again (FINAL_ATTEMPTS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..chat import TurnEvent
from ..clock import now_ms
from ..store import StoreError, TurnAppend, TurnBufferStore, TurnControl
from ..store.base import Step
from .codec import encode_event

if TYPE_CHECKING:
    from .running import LiveTurn

log = logging.getLogger(__name__)

# Flushes an ended turn's last events get before they are given up (the store is failing)
FINAL_ATTEMPTS = 3
# How often the running turns' new events are stored and a Stop asked elsewhere is learnt, and how
# often a follower on another process reads: a tenth of a second is below what a reader notices
# as lag, and a Stop from another process takes effect within it.
SYNC_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class BufferSettings:
    """Where and how live turns keep their events for other processes."""

    store: TurnBufferStore
    ttl_seconds: int  # kept this long after the last flush (RESUME_BUFFER_TTL_SECONDS)
    max_events: int  # RESUME_MAX_EVENTS
    running_ttl_seconds: int  # a session's running-turn mark (SESSION_TTL_SECONDS)


@dataclass(slots=True)
class _Progress:
    session_id: str
    synced: asyncio.Future[bool]  # True once the ended turn's last events are stored
    stored: int = 0  # events stored so far (seq 1..stored)
    begun: bool = False
    failures: int = 0
    settling: bool = False  # its last events go with its settlement; the flusher leaves it alone


@dataclass(slots=True)
class BufferSync:
    settings: BufferSettings
    _turns: dict[LiveTurn, _Progress] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def begin_step(self, turn_id: str, session_id: str) -> Step[list[TurnControl]]:
        """A new turn's buffer, empty, as the session's running turn: a step of the turn's admission,
        so another process finds the turn (a reattach, a Stop) from its first event on."""
        return self._append_step(TurnAppend(turn_id, [], begin=session_id))

    def end_step(self, turn_id: str) -> Step[list[TurnControl]]:
        """A begun buffer whose turn never ran (its admission was refused), marked ended."""
        return self._append_step(TurnAppend(turn_id, [], ended=True))

    def _append_step(self, append: TurnAppend) -> Step[list[TurnControl]]:
        settings = self.settings
        return settings.store.append_step(
            [append],
            now=now_ms(),
            ttl_seconds=settings.ttl_seconds,
            max_events=settings.max_events,
            running_ttl_seconds=settings.running_ttl_seconds,
        )

    def add(self, live: LiveTurn, session_id: str, *, begun: bool = False) -> asyncio.Future[bool]:
        """Keep `live`'s events in the buffer. `begun`: its admission began the buffer (`begin_step`),
        else the next flush, at once, does. The future is done once the turn has ended and its last
        flush is over: True if its events are all stored."""
        synced = asyncio.get_running_loop().create_future()
        self._turns[live] = _Progress(session_id, synced, begun=begun)
        if not begun:
            self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="live-turns-sync")
        return synced

    def final_step(self, live: LiveTurn, last: TurnEvent | None) -> Step[list[TurnControl]] | None:
        """The turn's last append, for its settlement to send: the events not yet stored and
        `last` (the event it ends with), marking it ended. None if it is not kept here."""
        progress = self._turns.get(live)
        if progress is None:
            return None
        progress.settling = True
        batch = [*live.events[progress.stored :], *([last] if last is not None else [])]
        events = [(seq, encode_event(event)) for seq, event in enumerate(batch, progress.stored + 1)]
        return self._append_step(
            TurnAppend(live.turn_id, events, True, None if progress.begun else progress.session_id)
        )

    def settled(self, live: LiveTurn, controls: list[TurnControl] | None) -> None:
        """The settlement's round trip is over: with `final_step`'s result the turn is stored (or
        its buffer was lost: nothing to keep); None (the round trip failed) leaves its last
        events to the flusher."""
        progress = self._turns.get(live)
        if progress is None:
            return
        if controls is None:
            progress.settling = False
            return
        self._finish(live, progress, stored=not controls[0].gone)

    async def _run(self) -> None:
        # every SYNC_SECONDS, or at once for a turn whose buffer is not begun yet: a turn begun by
        # its admission that ends within SYNC_SECONDS is written by its settlement alone
        while self._turns:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), SYNC_SECONDS)
            self._wake.clear()
            try:
                await self._flush()
            except Exception:
                # a bug, not the store (StoreError is handled): the turns that have ended are let
                # go, so nothing waits on them forever (shutdown does); the others are tried again
                log.exception("flushing live turns failed")
                for live, progress in list(self._turns.items()):
                    if live.task.done():
                        self._finish(live, progress, stored=False)

    async def _flush(self) -> None:
        turns = [(live, progress) for live, progress in self._turns.items() if not progress.settling]
        if not turns:
            return
        appends: list[TurnAppend] = []
        ended: list[bool] = []
        for live, progress in turns:
            done = live.task.done()  # read before the batch: an ended turn's batch is its last
            batch = live.events[progress.stored :]
            events = [(seq, encode_event(event)) for seq, event in enumerate(batch, progress.stored + 1)]
            appends.append(TurnAppend(live.turn_id, events, done, None if progress.begun else progress.session_id))
            ended.append(done)
        settings = self.settings
        try:
            controls = await settings.store.append_many(
                appends,
                now=now_ms(),
                ttl_seconds=settings.ttl_seconds,
                max_events=settings.max_events,
                running_ttl_seconds=settings.running_ttl_seconds,
            )
        except StoreError as exc:
            for (live, progress), done in zip(turns, ended, strict=True):
                progress.failures += 1
                if progress.failures == 1:  # once per turn, not ten times a second
                    log.warning("turn %s: could not store its events: %s", live.turn_id[:6], exc)
                if done and progress.failures >= FINAL_ATTEMPTS:
                    log.warning("turn %s: its last events were not stored: %s", live.turn_id[:6], exc)
                    self._finish(live, progress, stored=False)
            return
        for (live, progress), append, control in zip(turns, appends, controls, strict=True):
            if control.gone:
                # the store lost the buffer (a restart without persistence, a failover): begin it
                # again with every event at the next flush; never a reason to stop the answer
                progress.stored, progress.begun = 0, False
                continue
            progress.stored += len(append.events)
            progress.begun = True
            if append.ended:
                self._finish(live, progress, stored=True)
                continue
            live.last_follow_ms = max(live.last_follow_ms, control.last_follow_ms)
            if control.stop_requested:
                live.stop()

    def _finish(self, live: LiveTurn, progress: _Progress, *, stored: bool) -> None:
        self._turns.pop(live, None)  # a flush and a settlement may both end it
        if not progress.synced.done():
            progress.synced.set_result(stored)

    async def close(self) -> None:
        """Shutdown, once every turn has ended: the last flush is done or abandoned."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for live, progress in list(self._turns.items()):
            self._finish(live, progress, stored=False)
