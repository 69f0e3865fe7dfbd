"""Privacy: what a data-subject request erases, and what retention deletes, across every domain.

Erasure cuts across the domains (a visitor's sessions, transcripts, leads, feedback, usage rows,
counters, resume buffers, chat bindings and reminders), so it is one contract per backend rather
than a method on each; it uses each domain's own key and table layout. Finding what to show a
visitor or an owner reads through the domains' own contracts (privacy/ at the package's top).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

from ..base import StoreContract


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom a request is about: their sessions, their pseudonyms (visitors), their email addresses.

    Everything that names any of them goes: a session's history, transcript, resume buffers,
    reminders, feedback, leads and usage rows; a visitor's session and transcript indexes, chat
    bindings, usage rows, quota counters and feedback; an email's leads."""

    session_ids: frozenset[str] = frozenset()
    visitors: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()  # lower case

    def __bool__(self) -> bool:
        return bool(self.session_ids or self.visitors or self.emails)


@dataclass(frozen=True, slots=True)
class Expired:
    """What one retention round deleted."""

    transcripts: int = 0
    feedback: int = 0
    leads: int = 0


class PrivacyStore(StoreContract):
    """Erasure and retention across domains. Times are integer ms since the epoch."""

    @abstractmethod
    async def erase(self, subject: Subject, usage_days: range) -> None:
        """Delete everything that names `subject` in every domain; usage rows of `usage_days`
        (UTC day numbers: those that can still exist, by USAGE_RETENTION_DAYS)."""

    @abstractmethod
    async def expire(self, *, feedback_before: int, leads_before: int) -> Expired:
        """Delete ratings given before `feedback_before` and leads and unknown questions that came
        in before `leads_before` (transcripts expire through their own store)."""


__all__ = ["Expired", "PrivacyStore", "Subject"]
