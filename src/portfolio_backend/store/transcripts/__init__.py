"""Transcripts: the owner's copy of each conversation, kept TRANSCRIPT_RETENTION_DAYS after its last
message, long after the 24-hour session the visitor continues has expired.

A transcript is written in the turn's settlement batch (one more `Step`, no round trip of its own)
and only ever grows: a regenerated answer is added after the one it replaced, so the owner reads
what the visitor was shown. The console's conversation views read it; erasure deletes it.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field

from ..base import Step, StepStore
from ..sessions import Message

# Messages one transcript keeps (the oldest dropped past it): a visitor who chats for days in one
# session cannot grow the owner's copy without end; 1,000 is far past any real conversation.
TRANSCRIPT_MESSAGES_KEPT = 1000

DAY_MS = 86_400_000


@dataclass(slots=True)
class TranscriptMeta:
    """Who held a conversation, when, and until when the owner keeps it (ms since the epoch)."""

    session_id: str
    visitor: str
    created_at: int
    last_activity: int
    expires_at: int
    message_count: int = 0


@dataclass(slots=True)
class Transcript:
    meta: TranscriptMeta
    messages: list[Message] = field(default_factory=list)


class TranscriptStore(StepStore):
    """The owner's copies of conversations. Times are integer ms since the epoch."""

    @abstractmethod
    def keep_step(
        self, session_id: str, visitor: str, messages: list[Message], now: int, retention_days: int
    ) -> Step[None]:
        """Add a turn's `messages` to the session's transcript (made by its first turn), which is then
        kept `retention_days` from `now`; past TRANSCRIPT_MESSAGES_KEPT the oldest messages go."""

    @abstractmethod
    async def load(self, session_id: str, now: int) -> Transcript | None:
        """The transcript of `session_id`, or None when there is none or it expired."""

    @abstractmethod
    async def newest(self, count: int, now: int) -> list[TranscriptMeta]:
        """The `count` transcripts with the latest activity, newest first."""

    @abstractmethod
    async def for_visitor(self, visitor: str, now: int) -> list[str]:
        """The session ids of `visitor`'s kept transcripts."""

    @abstractmethod
    async def delete(self, session_ids: list[str]) -> int:
        """Delete these transcripts now; how many there were."""

    @abstractmethod
    async def expire(self, now: int) -> int:
        """Delete the transcripts whose retention ended by `now` (and their index entries); how many."""


__all__ = ["DAY_MS", "TRANSCRIPT_MESSAGES_KEPT", "Transcript", "TranscriptMeta", "TranscriptStore"]
