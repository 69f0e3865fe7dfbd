"""Sessions as routes read them (an id from a path or a body) and show them (their JSON shapes)."""

from __future__ import annotations

import uuid
from typing import Any

from ..errors import NotFound
from ..store import Message, Reminder, SessionMeta


def parse_session_id(session_id: str) -> str:
    """Session ids are uuid4 strings; anything else cannot name a session."""
    try:
        return str(uuid.UUID(session_id))
    except ValueError as exc:
        raise NotFound(f"Session not found: {session_id[:64]!r}") from exc


def public_session(meta: SessionMeta) -> dict[str, Any]:
    """A session as the API shows it (the visitor only to the admin)."""
    return {
        "session_id": meta.session_id,
        "created_at": meta.created_at,
        "last_activity": meta.last_activity,
        "message_count": meta.message_count,
    }


def public_message(message: Message) -> dict[str, Any]:
    """A message as GET /session/{id} shows it: role, content, timestamp (+ tool name, + sources,
    + `stopped` on an answer the visitor stopped part-way, + `turn_id` on the answer that ended a live turn)."""
    body: dict[str, Any] = {"role": message.role, "content": message.content, "timestamp": message.timestamp}
    if message.name:
        body["name"] = message.name
    if message.sources:
        body["sources"] = message.sources
    if message.stopped:
        body["stopped"] = True
    if message.turn_id:
        body["turn_id"] = message.turn_id
    return body


def public_reminder(reminder: Reminder) -> dict[str, Any]:
    """A reminder as GET /session/{id}/reminders shows it."""
    return {
        "reminder_id": reminder.reminder_id,
        "title": reminder.title,
        "description": reminder.description,
        "due_at": reminder.due_iso,
        "status": reminder.status,
        "created_at": reminder.created_at,
        "delivered_at": reminder.delivered_at,
    }
