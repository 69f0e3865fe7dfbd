"""Turn buffers: the events of a running answer, kept briefly so a visitor who lost the connection
can reattach (from any process) and so Stop reaches the process that runs the turn.

The process running a turn appends its events in batches and learns, in the same round trip,
whether someone asked it to stop and when a follower last read. Followers read the events after
the last one they saw. Events are opaque strings here; `seq` numbers them 1, 2, 3... per turn.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from ..base import Step, StepStore


@dataclass(frozen=True, slots=True)
class TurnControl:
    """What the running turn learns on each append."""

    stop_requested: bool
    last_follow_ms: int  # the newest read by a follower on any process (0: none yet)
    # the buffer was not there (lost: a store restarted without persistence, a failover, an
    # eviction): nothing was stored; the turn may begin it again with all its events
    gone: bool = False


@dataclass(frozen=True, slots=True)
class TurnPage:
    """What a follower reads: events after the one it saw, and whether that is all there will be."""

    session_id: str
    events: list[tuple[int, str]]  # (seq, event), seq ascending
    ended: bool  # the turn has ended and `events` reach its last stored event
    overflowed: bool  # the buffer reached its bound: events past it were not kept
    # when the buffer expires (ms): RESUME_BUFFER_TTL_SECONDS after the running process's last
    # append, which it makes every SYNC_SECONDS while the turn runs; so an old one, for a turn
    # that has not finished, means that process is gone (live/running.py `owner_gone`)
    expires_at: int = 0
    finished: bool = False  # the turn has ended (its last events may be on later pages)


@dataclass(frozen=True, slots=True)
class TurnAppend:
    """One turn's part of an `append_many`."""

    turn_id: str
    events: Sequence[tuple[int, str]]  # (seq, event), seq ascending
    ended: bool = False  # the turn has ended: these are its last events
    # on a turn's first append, its session's id: the buffer is created (if it does not exist yet)
    # and becomes the session's running turn, in the same round trip as its first events
    begin: str | None = None


class TurnBufferStore(StepStore):
    """Short-lived per-turn event buffers. Times are ms since the epoch."""

    async def append_many(
        self,
        appends: Sequence[TurnAppend],
        *,
        now: int,
        ttl_seconds: int,
        max_events: int,
        running_ttl_seconds: int | None = None,
    ) -> list[TurnControl]:
        """`append_step` on its own."""
        step = self.append_step(
            appends, now=now, ttl_seconds=ttl_seconds, max_events=max_events, running_ttl_seconds=running_ttl_seconds
        )
        return await self.run_step(step)

    @abstractmethod
    def append_step(
        self,
        appends: Sequence[TurnAppend],
        *,
        now: int,
        ttl_seconds: int,
        max_events: int,
        running_ttl_seconds: int | None = None,
    ) -> Step[list[TurnControl]]:
        """Each turn's append, all in one round trip (a process flushes all its running turns at
        once); their control states in order. Each is atomic on its own:

        add its events (an event whose seq is already stored is skipped, so a retried append adds
        nothing twice), keep at most `max_events` (past that the buffer is marked overflowed and
        keeps no more), and, if `ended`, mark the turn ended so it is no longer the session's
        running turn. Refresh the TTL to `ttl_seconds`. An unknown or expired buffer, without
        `begin`, stores nothing and answers `gone`. A session's running-turn mark lives
        `running_ttl_seconds` (default `ttl_seconds`): as long as the session, since a turn may
        run longer than its buffer's TTL and the mark is only read with the turn's own state."""

    @abstractmethod
    async def read(self, turn_id: str, after: int, limit: int, now: int) -> TurnPage | None:
        """Up to `limit` events with seq > `after`, and record a follower's read at `now` (the
        running turn sees it in `TurnControl.last_follow_ms`). None if unknown or expired."""

    @abstractmethod
    async def request_stop(self, turn_id: str) -> bool:
        """Ask the process running the turn to stop it. False if unknown, expired or ended."""

    @abstractmethod
    async def running_turn(self, session_id: str) -> str | None:
        """The id of the session's running (not ended) turn, if any."""
