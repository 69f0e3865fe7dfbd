"""Privacy on SQLite: each deletion a statement per table, all in one transaction."""

from __future__ import annotations

import sqlite3

from ..sqlite import SqliteBackend, SqlitePart
from . import Expired, PrivacyStore, Subject


class SqlitePrivacyStore(SqlitePart, PrivacyStore):
    def __init__(self, backend: SqliteBackend) -> None:
        super().__init__(backend)

    async def erase(self, subject: Subject, usage_days: range) -> None:
        session_tables = self.backend.session_tables
        visitors = [(visitor,) for visitor in subject.visitors]
        emails = [(email,) for email in subject.emails]

        def erase(db: sqlite3.Connection) -> None:
            for session_id in (*subject.session_ids, *_sessions_of(db, subject.visitors)):
                db.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
                for table in session_tables:  # reminders, resume buffers (their events cascade)
                    db.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
                for table in ("transcripts", "feedback", "leads", "usage_sessions", "chats"):
                    db.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
                db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
                db.execute("DELETE FROM counters WHERE instr(key, ?) > 0", (session_id,))
            for table in ("sessions", "transcripts", "feedback", "usage_visitors", "chats"):
                db.executemany(f"DELETE FROM {table} WHERE visitor = ?", visitors)
            db.executemany("DELETE FROM counters WHERE instr(key, ?) > 0", visitors)
            db.executemany("DELETE FROM leads WHERE lower(email) = ?", emails)

        await self.backend.write(erase)

    async def expire(self, *, feedback_before: int, leads_before: int) -> Expired:
        def expire(db: sqlite3.Connection) -> Expired:
            feedback = db.execute("DELETE FROM feedback WHERE created_at < ?", (feedback_before,)).rowcount
            leads = db.execute("DELETE FROM leads WHERE created_at < ?", (leads_before,)).rowcount
            return Expired(feedback=feedback, leads=leads)

        return await self.backend.write(expire)


def _sessions_of(db: sqlite3.Connection, visitors: frozenset[str]) -> list[str]:
    """The sessions and transcripts of `visitors`, so what is kept per session goes with them."""
    found: set[str] = set()
    for visitor in visitors:
        for table, column in (("sessions", "id"), ("transcripts", "session_id")):
            found.update(row[0] for row in db.execute(f"SELECT {column} FROM {table} WHERE visitor = ?", (visitor,)))
    return sorted(found)
