"""Chats on SQLite: a row per (visitor, chat id), swept once expired."""

from __future__ import annotations

import sqlite3

from ..sqlite import SqliteBackend, SqlitePart
from . import ChatStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    visitor    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (visitor, chat_id)
);
CREATE INDEX IF NOT EXISTS chats_by_expiry ON chats (expires_at);
"""


class SqliteChatStore(SqlitePart, ChatStore):
    def __init__(self, backend: SqliteBackend) -> None:
        super().__init__(backend)
        backend.add_schema(SCHEMA)
        backend.add_sweep(_sweep)

    async def find(self, visitor: str, chat_id: str, now: int, ttl_seconds: int) -> str | None:
        def find(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "UPDATE chats SET expires_at = ? WHERE visitor = ? AND chat_id = ? AND expires_at > ? "
                "RETURNING session_id",
                (now + ttl_seconds * 1000, visitor, chat_id, now),
            ).fetchone()
            return None if row is None else str(row[0])

        return await self.backend.write(find)

    async def bind(self, visitor: str, chat_id: str, session_id: str, now: int, ttl_seconds: int) -> None:
        def bind(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO chats (visitor, chat_id, session_id, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (visitor, chat_id) DO UPDATE SET "
                "session_id = excluded.session_id, expires_at = excluded.expires_at",
                (visitor, chat_id, session_id, now + ttl_seconds * 1000),
            )
            if self._sweep_due():
                _sweep(db, now)

        await self.backend.write(bind)


def _sweep(db: sqlite3.Connection, now: int) -> None:
    db.execute("DELETE FROM chats WHERE expires_at <= ?", (now,))
