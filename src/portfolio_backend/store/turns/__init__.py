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

from ..base import StoreContract


@dataclass(frozen=True, slots=True)
class TurnControl:
    """What the running turn learns on each append."""

    stop_requested: bool
    last_follow_ms: int  # the newest read by a follower on any process (0: none yet)


@dataclass(frozen=True, slots=True)
class TurnPage:
    """What a follower reads: events after the one it saw, and whether that is all there will be."""

    session_id: str
    events: list[tuple[int, str]]  # (seq, event), seq ascending
    ended: bool  # the turn has ended and `events` reach its last stored event
    overflowed: bool  # the buffer reached its bound: events past it were not kept


class TurnBufferStore(StoreContract):
    """Short-lived per-turn event buffers. Times are ms since the epoch."""

    @abstractmethod
    async def append(
        self,
        turn_id: str,
        events: Sequence[tuple[int, str]],
        *,
        ended: bool,
        now: int,
        ttl_seconds: int,
        max_events: int,
        begin: str | None = None,
    ) -> TurnControl:
        """In one atomic step: add `events` (seq ascending; an event whose seq is already stored is
        skipped, so a retried append adds nothing twice), keep at most `max_events` (past that the
        buffer is marked overflowed and keeps no more), and, if `ended`, mark the turn ended so it
        is no longer the session's running turn. Refresh the TTL to `ttl_seconds`.

        `begin`, on a turn's first append, is its session's id: the buffer is created (if it does
        not exist yet) and becomes the session's running turn, in the same round trip as its first
        events. Returns the control state; an unknown or expired buffer, without `begin`, answers
        "stop requested" (nobody can follow it)."""

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
