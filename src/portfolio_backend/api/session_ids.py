"""Session ids as routes read them from a path or a body."""

from __future__ import annotations

import uuid

from ..errors import NotFound


def parse_session_id(session_id: str) -> str:
    """Session ids are uuid4 strings; anything else cannot name a session."""
    try:
        return str(uuid.UUID(session_id))
    except ValueError as exc:
        raise NotFound(f"Session not found: {session_id[:64]!r}") from exc
