"""The storage contract: sessions with their history, and the counters behind every quota.

Two implementations keep it: `RedisStore` (several processes or hosts) and `SqliteStore` (the
embedded default). One contract suite in tests/store runs against both.
"""

from __future__ import annotations

import functools
import json
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, TypeVar

_T = TypeVar("_T")


class StoreError(Exception):
    """The store could not be reached or answered with an error. Callers handle only this."""


@dataclass(slots=True)
class Message:
    """One message of a conversation as kept in history and sent upstream."""

    role: str
    content: str
    timestamp: int
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    name: str | None = None

    def to_json(self) -> str:
        # role first, always: the Redis trim script reads it without a full decode
        body: dict[str, Any] = {
            "role": self.role,
            "content": self.content,
            "timestamp": self.timestamp,
        }
        if self.tool_calls:
            body["tool_calls"] = self.tool_calls
        if self.tool_call_id:
            body["tool_call_id"] = self.tool_call_id
        if self.name:
            body["name"] = self.name
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Message:
        return cls(**json.loads(text))

    def public(self) -> dict[str, Any]:
        """The shape GET /session/{id} shows: role, content, timestamp (+ tool name)."""
        body: dict[str, Any] = {
            "role": self.role,
            "content": self.content,
            "timestamp": self.timestamp,
        }
        if self.name:
            body["name"] = self.name
        return body

    def upstream(self) -> dict[str, Any]:
        """The shape the chat completions API takes."""
        body: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            body["tool_calls"] = self.tool_calls
        if self.tool_call_id:
            body["tool_call_id"] = self.tool_call_id
        return body


@dataclass(slots=True)
class SessionMeta:
    session_id: str
    visitor: str
    created_at: int
    last_activity: int
    message_count: int

    def public(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "created_at": self.created_at,
            "last_activity": self.last_activity,
            "message_count": self.message_count,
        }


@dataclass(slots=True)
class SessionRecord:
    meta: SessionMeta
    messages: list[Message] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CounterCheck:
    """One counter to charge: `key` names its window; it may not pass `limit`; it is dropped after `ttl_seconds`."""

    key: str
    limit: int
    ttl_seconds: float


@dataclass(frozen=True, slots=True)
class CounterState:
    """The outcome of `Store.hit`: whether all counters were charged, which one refused, and the counts."""

    allowed: bool
    counts: tuple[int, ...]
    refused: int | None = None


def trim_to_turns(messages: list[Message], keep: int) -> list[Message]:
    """The last `keep` messages, starting at a user message so no tool message loses its call."""
    kept = messages[-keep:]
    start = next((i for i, message in enumerate(kept) if message.role == "user"), len(kept))
    return kept[start:]


class Store(ABC):
    """Contract of a storage backend.

    Every public coroutine raises only `StoreError` for backend failures: subclasses list their
    backend's exception types in `backend_errors` and `__init_subclass__` wraps the methods.
    Times are integer milliseconds since the epoch unless a name says otherwise.
    """

    name: ClassVar[str]
    backend_errors: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for attr, value in list(vars(cls).items()):
            if not attr.startswith("_") and callable(value) and hasattr(Store, attr):
                setattr(cls, attr, _wrap_errors(value, cls))

    @abstractmethod
    async def check(self) -> None:
        """Round-trip to the backend; raise StoreError when it is not usable."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections and threads."""

    # sessions ----------------------------------------------------------------------------------

    @abstractmethod
    async def create_session(self, session_id: str, visitor: str, now: int, ttl_seconds: int) -> SessionMeta:
        """Create an empty session owned by `visitor`, expiring `ttl_seconds` after its last activity."""

    @abstractmethod
    async def load_session(self, session_id: str, now: int) -> SessionRecord | None:
        """The session with its messages in order, or None if it never existed or has expired."""

    @abstractmethod
    async def append_turn(
        self,
        session_id: str,
        messages: list[Message],
        now: int,
        ttl_seconds: int,
        keep: int,
        release: str | None = None,
    ) -> bool:
        """Atomically add one turn's messages, keep the last `keep` (trimmed at a user message),
        refresh the TTL. Concurrent turns never lose each other's messages. False if the session
        is gone. `release` names a counter to take one back from in the same round trip (the
        visitor's open-stream slot)."""

    @abstractmethod
    async def delete_session(self, session_id: str) -> bool:
        """Delete a session and its history; False if there was none."""

    @abstractmethod
    async def list_sessions(self, visitor: str, now: int) -> list[SessionMeta]:
        """The visitor's live sessions, newest first, from a per-visitor index (no scans)."""

    @abstractmethod
    async def list_all_sessions(self, cursor: str, count: int, now: int) -> tuple[str, list[SessionMeta]]:
        """Admin view: a page of every live session and the cursor of the next page ('' at the end).
        Raises ValueError for a cursor this store did not give out."""

    # counters ----------------------------------------------------------------------------------

    @abstractmethod
    async def hit(self, checks: Sequence[CounterCheck]) -> CounterState:
        """In one atomic step: charge one to every counter, or to none if any has reached its
        limit (then `refused` is its index). Keys name their window, so the TTL only bounds how
        long a counter takes up space."""

    @abstractmethod
    async def peek(self, key: str) -> int:
        """The current count of `key` (0 if none); counts nothing."""

    @abstractmethod
    async def release(self, *keys: str) -> None:
        """Take one back from each key (a refund, or an open stream that ended); never below zero."""

    # reminders and leads -----------------------------------------------------------------------
    # Used by the tools: tools/reminder.py, tools/reminder_dispatch.py and tools/leads.py.

    @abstractmethod
    async def add_reminder(self, reminder: Reminder, limit: int) -> bool:
        """Store a pending reminder with its session, unless the session already holds `limit`
        reminders (pending or done): then store nothing and return False."""

    @abstractmethod
    async def list_reminders(self, session_id: str) -> list[Reminder]:
        """The session's reminders, soonest due first; [] for an unknown session."""

    @abstractmethod
    async def claim_due_reminders(self, now: int, lease_ms: int, count: int) -> list[Reminder]:
        """Atomically claim up to `count` pending reminders due at `now`, for `lease_ms`.

        Each claim goes to exactly one caller, across processes. A claim neither completed nor
        rescheduled when its lease runs out (its dispatcher died) can be claimed again.
        """

    @abstractmethod
    async def complete_reminder(self, reminder: Reminder, now: int, delivered: bool) -> None:
        """End a claim for good: the reminder is `delivered`, or `failed` after its last attempt."""

    @abstractmethod
    async def reschedule_reminder(self, reminder: Reminder, retry_at: int) -> None:
        """End a claim after a failed attempt: pending again from `retry_at`, one more attempt counted."""

    @abstractmethod
    async def add_lead(self, lead: Lead) -> None:
        """Keep a lead or an unknown question for the owner; only the newest `LEADS_KEPT` stay."""

    @abstractmethod
    async def list_leads(self, count: int) -> list[Lead]:
        """The newest `count` leads and questions, newest first."""


def _wrap_errors(method: Callable[..., Awaitable[_T]], cls: type[Store]) -> Callable[..., Awaitable[_T]]:
    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> _T:
        try:
            return await method(*args, **kwargs)
        except StoreError:
            raise
        except cls.backend_errors as exc:
            raise StoreError(f"{cls.name} store unavailable: {type(exc).__name__}") from exc

    return wrapper


# reminders and leads ---------------------------------------------------------------------------

# How many leads and unknown questions a store keeps: the owner is notified of each as it comes,
# the store is the backlog, and the cap stops a flood of them from growing it without end.
LEADS_KEPT = 1000

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

    def public(self) -> dict[str, Any]:
        """The shape GET /session/{id}/reminders shows."""
        return {
            "reminder_id": self.reminder_id,
            "title": self.title,
            "description": self.description,
            "due_at": self.due_iso,
            "status": self.status,
            "created_at": self.created_at,
            "delivered_at": self.delivered_at,
        }


@dataclass(slots=True)
class Lead:
    """Contact details a visitor chose to leave ("contact"), or a question the model could not
    answer ("question"), kept for the site owner."""

    lead_id: str
    kind: str
    created_at: int
    session_id: str | None = None
    email: str | None = None
    name: str | None = None
    notes: str | None = None
    question: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Lead:
        return cls(**json.loads(text))
