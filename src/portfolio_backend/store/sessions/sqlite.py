"""Sessions on SQLite: a row per session, a row per message."""

from __future__ import annotations

import sqlite3

from ..sqlite import SqliteBackend, SqlitePart, SqliteStep
from . import Message, SessionMeta, SessionRecord, SessionStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id            TEXT PRIMARY KEY,
    visitor       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_activity INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_visitor ON sessions (visitor, created_at);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS messages (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages (session_id, seq);
"""

_META_SQL = (
    "SELECT s.id, s.visitor, s.created_at, s.last_activity, "
    "(SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) FROM sessions s "
)


class SqliteSessionStore(SqlitePart, SessionStore):
    def __init__(self, backend: SqliteBackend) -> None:
        super().__init__(backend)
        backend.add_schema(SCHEMA)

    async def create(self, session_id: str, visitor: str, now: int, ttl_seconds: int) -> SessionMeta:
        def create(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO sessions (id, visitor, created_at, last_activity, expires_at) VALUES (?, ?, ?, ?, ?)",
                (session_id, visitor, now, now, now + ttl_seconds * 1000),
            )
            if self._sweep_due():  # by the callers' clock, like every expiry here
                db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))  # their messages cascade

        await self.backend.write(create)
        return SessionMeta(session_id, visitor, now, now, 0)

    def load_step(self, session_id: str, now: int) -> SqliteStep[SessionRecord | None]:
        def load(db: sqlite3.Connection) -> SessionRecord | None:
            row = db.execute(
                "SELECT visitor, created_at, last_activity FROM sessions WHERE id = ? AND expires_at > ?",
                (session_id, now),
            ).fetchone()
            if row is None:
                return None
            bodies = db.execute(
                "SELECT body FROM messages WHERE session_id = ? ORDER BY seq",
                (session_id,),
            ).fetchall()
            messages = [Message.from_json(body) for (body,) in bodies]
            return SessionRecord(SessionMeta(session_id, row[0], row[1], row[2], len(messages)), messages)

        return SqliteStep(load)

    async def load(self, session_id: str, now: int) -> SessionRecord | None:
        # a read: no write transaction
        return await self.backend.read(self.load_step(session_id, now).run)

    def append_turn_step(
        self,
        session_id: str,
        messages: list[Message],
        now: int,
        ttl_seconds: int,
        keep: int,
        replace_last_turn: bool = False,
    ) -> SqliteStep[bool]:
        def append(db: sqlite3.Connection) -> bool:
            updated = db.execute(
                "UPDATE sessions SET last_activity = ?, expires_at = ? WHERE id = ? AND expires_at > ?",
                (now, now + ttl_seconds * 1000, session_id, now),
            ).rowcount
            if not updated:
                return False
            if replace_last_turn:  # the last user message and everything after it
                db.execute(
                    "DELETE FROM messages WHERE session_id = ? AND seq >= "
                    "(SELECT MAX(seq) FROM messages WHERE session_id = ? AND role = 'user')",
                    (session_id, session_id),
                )
            db.executemany(
                "INSERT INTO messages (session_id, role, body) VALUES (?, ?, ?)",
                [(session_id, message.role, message.to_json()) for message in messages],
            )
            # the trimming rule: keep the last `keep`, then drop leading non-user messages
            db.execute(
                "DELETE FROM messages WHERE session_id = ? AND seq NOT IN "
                "(SELECT seq FROM messages WHERE session_id = ? ORDER BY seq DESC LIMIT ?)",
                (session_id, session_id, keep),
            )
            db.execute(
                "DELETE FROM messages WHERE session_id = ? AND seq < COALESCE("
                "(SELECT MIN(seq) FROM messages WHERE session_id = ? AND role = 'user'), "
                "(SELECT MAX(seq) + 1 FROM messages WHERE session_id = ?))",
                (session_id, session_id, session_id),
            )
            return True

        return SqliteStep(append)

    async def delete(self, session_id: str) -> bool:
        tables = self.backend.session_tables

        def delete(db: sqlite3.Connection) -> bool:
            db.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
            for table in tables:  # what other domains keep with the session
                db.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
            return db.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0

        return await self.backend.write(delete)

    async def list_for(self, visitor: str, now: int) -> list[SessionMeta]:
        def query(db: sqlite3.Connection) -> list[SessionMeta]:
            rows = db.execute(
                _META_SQL + "WHERE s.visitor = ? AND s.expires_at > ? ORDER BY s.created_at DESC",
                (visitor, now),
            )
            return [SessionMeta(*row) for row in rows]

        return await self.backend.read(query)

    async def list_all(self, cursor: str, count: int, now: int) -> tuple[str, list[SessionMeta]]:
        def query(db: sqlite3.Connection) -> tuple[str, list[SessionMeta]]:
            rows = db.execute(
                _META_SQL + "WHERE s.id > ? AND s.expires_at > ? ORDER BY s.id LIMIT ?",
                (cursor, now, count),
            )
            metas = [SessionMeta(*row) for row in rows]
            return (metas[-1].session_id if len(metas) == count else ""), metas

        return await self.backend.read(query)
