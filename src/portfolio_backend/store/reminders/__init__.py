"""Reminders: set by a visitor in a session, claimed when due by the reminder dispatcher."""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import asdict, dataclass

from ..base import StoreContract

# Delivered and failed reminders stay listed this long after they were due, then are dropped.
REMINDERS_KEPT_MS = 30 * 86400 * 1000


@dataclass(slots=True)
class Reminder:
    """A reminder a visitor set in a session; when due it is POSTed to the owner's webhook.

    status: "pending" until "delivered", or "failed" once its attempts are used up.
    due_iso keeps the visitor's own UTC offset for display; due_at is the same instant in ms.
    """

    reminder_id: str
    session_id: str
    title: str
    description: str
    due_at: int
    due_iso: str
    created_at: int
    status: str = "pending"
    attempts: int = 0
    delivered_at: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Reminder:
        return cls(**json.loads(text))


class ReminderStore(StoreContract):
    """Reminders kept with their session (deleting the session deletes them), claimed exactly once."""

    @abstractmethod
    async def add(self, reminder: Reminder, limit: int) -> bool:
        """Store a pending reminder with its session, unless the session already holds `limit`
        reminders (pending or done): then store nothing and return False."""

    @abstractmethod
    async def list_for(self, session_id: str) -> list[Reminder]:
        """The session's reminders, soonest due first; [] for an unknown session."""

    @abstractmethod
    async def claim_due(self, now: int, lease_ms: int, count: int) -> list[Reminder]:
        """Atomically claim up to `count` pending reminders due at `now`, for `lease_ms`.

        Each claim goes to exactly one caller, across processes. A claim neither completed nor
        rescheduled when its lease runs out (its dispatcher died) can be claimed again.
        """

    @abstractmethod
    async def complete(self, reminder: Reminder, now: int, delivered: bool) -> None:
        """End a claim for good: the reminder is `delivered`, or `failed` after its last attempt."""

    @abstractmethod
    async def reschedule(self, reminder: Reminder, retry_at: int) -> None:
        """End a claim after a failed attempt: pending again from `retry_at`, one more attempt counted."""
