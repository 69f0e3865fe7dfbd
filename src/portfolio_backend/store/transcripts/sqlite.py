"""Transcripts on SQLite: a row per conversation, a row per message."""

from __future__ import annotations

import sqlite3

from ..sessions import Message
from ..sqlite import SqliteBackend, SqlitePart, SqliteStep
from . import DAY_MS, TRANSCRIPT_MESSAGES_KEPT, Transcript, TranscriptMeta, TranscriptStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS transcripts (
    session_id    TEXT PRIMARY KEY,
    visitor       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_activity INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS transcripts_by_visitor ON transcripts (visitor);
CREATE INDEX IF NOT EXISTS transcripts_by_expiry ON transcripts (expires_at);
CREATE TABLE IF NOT EXISTS transcript_messages (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES transcripts (session_id) ON DELETE CASCADE,
    body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transcript_messages_by_session ON transcript_messages (session_id, seq);
"""

_META_SQL = (
    "SELECT t.session_id, t.visitor, t.created_at, t.last_activity, t.expires_at, "
    "(SELECT COUNT(*) FROM transcript_messages m WHERE m.session_id = t.session_id) FROM transcripts t "
)


class SqliteTranscriptStore(SqlitePart, TranscriptStore):
    def __init__(self, backend: SqliteBackend) -> None:
        super().__init__(backend)
        backend.add_schema(SCHEMA)

    def keep_step(
        self, session_id: str, visitor: str, messages: list[Message], now: int, retention_days: int
    ) -> SqliteStep[None]:
        def keep(db: sqlite3.Connection) -> None:
            # a session deleted while its answer streamed leaves no copy behind
            live = "SELECT 1 FROM sessions WHERE id = ? AND expires_at > ?"
            if db.execute(live, (session_id, now)).fetchone() is None:
                return
            db.execute(
                "INSERT INTO transcripts (session_id, visitor, created_at, last_activity, expires_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET "
                "last_activity = excluded.last_activity, expires_at = excluded.expires_at",
                (session_id, visitor, now, now, now + retention_days * DAY_MS),
            )
            db.executemany(
                "INSERT INTO transcript_messages (session_id, body) VALUES (?, ?)",
                [(session_id, message.to_json()) for message in messages],
            )
            db.execute(
                "DELETE FROM transcript_messages WHERE session_id = ? AND seq NOT IN "
                "(SELECT seq FROM transcript_messages WHERE session_id = ? ORDER BY seq DESC LIMIT ?)",
                (session_id, session_id, TRANSCRIPT_MESSAGES_KEPT),
            )

        return SqliteStep(keep)

    async def load(self, session_id: str, now: int) -> Transcript | None:
        def load(db: sqlite3.Connection) -> Transcript | None:
            row = db.execute(_META_SQL + "WHERE t.session_id = ? AND t.expires_at > ?", (session_id, now)).fetchone()
            if row is None:
                return None
            bodies = db.execute(
                "SELECT body FROM transcript_messages WHERE session_id = ? ORDER BY seq", (session_id,)
            ).fetchall()
            return Transcript(TranscriptMeta(*row), [Message.from_json(body) for (body,) in bodies])

        return await self.backend.read(load)

    async def newest(self, count: int, now: int) -> list[TranscriptMeta]:
        def query(db: sqlite3.Connection) -> list[TranscriptMeta]:
            rows = db.execute(_META_SQL + "WHERE t.expires_at > ? ORDER BY t.last_activity DESC LIMIT ?", (now, count))
            return [TranscriptMeta(*row) for row in rows]

        return await self.backend.read(query)

    async def for_visitor(self, visitor: str, now: int) -> list[str]:
        def query(db: sqlite3.Connection) -> list[str]:
            rows = db.execute(
                "SELECT session_id FROM transcripts WHERE visitor = ? AND expires_at > ? ORDER BY last_activity DESC",
                (visitor, now),
            )
            return [str(session_id) for (session_id,) in rows]

        return await self.backend.read(query)

    async def delete(self, session_ids: list[str]) -> int:
        def delete(db: sqlite3.Connection) -> int:
            return sum(
                db.execute("DELETE FROM transcripts WHERE session_id = ?", (session_id,)).rowcount
                for session_id in session_ids
            )

        return await self.backend.write(delete)

    async def expire(self, now: int) -> int:
        def expire(db: sqlite3.Connection) -> int:
            return db.execute("DELETE FROM transcripts WHERE expires_at <= ?", (now,)).rowcount  # messages cascade

        return await self.backend.write(expire)
