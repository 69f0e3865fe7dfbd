"""Sessions: a visitor's conversation, its metadata and its history, expiring after inactivity."""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

from ..base import Step, StepStore


@dataclass(slots=True)
class Message:
    """One message of a conversation as kept in history.

    Its stored form is `to_json()`; sessions stored by earlier versions load unchanged, so do not
    rename or reorder its fields. How the API shows it and how the model is sent it are shaped
    where they are used (api/sessions.py, chat/).
    """

    role: str
    content: str
    timestamp: int
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    name: str | None = None
    sources: list[dict[str, Any]] | None = None  # where an answer came from (owner knowledge), as shown
    stopped: bool = False  # an answer the visitor stopped part-way (issue 16)
    # the id the visitor's client gave a user message (the AI SDK's UI message id): how an edit
    # or a regenerate names the turn it replaces (chat/replacement.py)
    client_id: str | None = None
    # on the answer that ends a live turn: the turn's id, so a client back from a reload can tell
    # that the history holds the turn it was showing
    turn_id: str | None = None

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
        if self.sources:
            body["sources"] = self.sources
        if self.stopped:
            body["stopped"] = True
        if self.client_id:
            body["client_id"] = self.client_id
        if self.turn_id:
            body["turn_id"] = self.turn_id
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Message:
        return cls(**json.loads(text))


@dataclass(slots=True)
class SessionMeta:
    session_id: str
    visitor: str
    created_at: int
    last_activity: int
    message_count: int


@dataclass(slots=True)
class SessionRecord:
    meta: SessionMeta
    messages: list[Message] = field(default_factory=list)


class SessionStore(StepStore):
    """Sessions with their history. Times are integer milliseconds since the epoch."""

    @abstractmethod
    async def create(self, session_id: str, visitor: str, now: int, ttl_seconds: int) -> SessionMeta:
        """Create an empty session owned by `visitor`, expiring `ttl_seconds` after its last activity."""

    @abstractmethod
    def load_step(self, session_id: str, now: int) -> Step[SessionRecord | None]:
        """The session with its messages in order, or None if it never existed or has expired."""

    async def load(self, session_id: str, now: int) -> SessionRecord | None:
        """`load_step` on its own."""
        return await self.run_step(self.load_step(session_id, now))

    @abstractmethod
    def append_turn_step(
        self,
        session_id: str,
        messages: list[Message],
        now: int,
        ttl_seconds: int,
        keep: int,
        replace_last_turn: bool = False,
    ) -> Step[bool]:
        """Atomically add one turn's messages, keep the last `keep` (trimmed at a user message, so
        no tool message loses its call), refresh the TTL. Concurrent turns never lose each other's
        messages. False if the session is gone. `replace_last_turn`: first drop the session's last
        turn (its last user message and all after it), in the same atomic step: a regenerated
        answer replaces the one before."""

    async def append_turn(
        self,
        session_id: str,
        messages: list[Message],
        now: int,
        ttl_seconds: int,
        keep: int,
        replace_last_turn: bool = False,
    ) -> bool:
        """`append_turn_step` on its own."""
        return await self.run_step(
            self.append_turn_step(session_id, messages, now, ttl_seconds, keep, replace_last_turn=replace_last_turn)
        )

    @abstractmethod
    async def delete(self, session_id: str) -> bool:
        """Delete a session, its history and what other domains keep with it; False if there was none."""

    @abstractmethod
    async def list_for(self, visitor: str, now: int) -> list[SessionMeta]:
        """The visitor's live sessions, newest first, from a per-visitor index (no scans)."""

    @abstractmethod
    async def list_all(self, cursor: str, count: int, now: int) -> tuple[str, list[SessionMeta]]:
        """Admin view: a page of every live session and the cursor of the next page ('' at the end).
        Raises ValueError for a cursor this store did not give out."""
