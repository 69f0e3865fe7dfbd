"""Chats: the AI SDK's chat ids (POST /api/chat), each bound to a session of the visitor who uses it.

A chat id is chosen by the client and may be seen by others (in a page's URL, say); a session id
is the bearer secret of a history (GET /session/{id}). So a binding is keyed by the visitor and
the chat id together, and points at a session id the server made: the same chat id from another
visitor finds nothing, and knowing a chat id never tells anyone its session id.
"""

from __future__ import annotations

from abc import abstractmethod

from ..base import StoreContract


class ChatStore(StoreContract):
    """Bindings of (visitor, chat id) to a session id. Times are integer milliseconds since the epoch."""

    @abstractmethod
    async def find(self, visitor: str, chat_id: str, now: int, ttl_seconds: int) -> str | None:
        """The session id `visitor`'s chat `chat_id` is bound to, or None. A binding found is kept
        `ttl_seconds` from `now`, so a chat in use lasts as long as its session does.

        The session itself may have expired or been deleted since: the caller loads it to know.
        """

    @abstractmethod
    async def bind(self, visitor: str, chat_id: str, session_id: str, now: int, ttl_seconds: int) -> None:
        """Bind `visitor`'s chat `chat_id` to `session_id` for `ttl_seconds` from `now`, replacing an
        earlier binding of the same chat (whose session expired). Other visitors' chats are untouched."""


__all__ = ["ChatStore"]
