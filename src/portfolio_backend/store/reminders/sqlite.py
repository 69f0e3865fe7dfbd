"""Reminders on SQLite: one row each; a claim marks rows inside one IMMEDIATE transaction."""

from __future__ import annotations

import sqlite3

from ..sqlite import SqliteBackend, SqlitePart
from . import REMINDERS_KEPT_MS, Reminder, ReminderStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS reminders (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    due_at       INTEGER NOT NULL,
    due_iso      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    status       TEXT NOT NULL,      -- pending, claimed, delivered, failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    delivered_at INTEGER,
    claimable_at INTEGER NOT NULL    -- pending: due or retry time; claimed: end of the lease
);
CREATE INDEX IF NOT EXISTS reminders_by_session ON reminders (session_id, due_at);
CREATE INDEX IF NOT EXISTS reminders_claimable ON reminders (claimable_at)
    WHERE status IN ('pending', 'claimed');
"""

_SELECT = (
    "SELECT id, session_id, title, description, due_at, due_iso, created_at, "
    "CASE status WHEN 'claimed' THEN 'pending' ELSE status END, attempts, delivered_at FROM reminders "
)


class SqliteReminderStore(SqlitePart, ReminderStore):
    def __init__(self, backend: SqliteBackend) -> None:
        super().__init__(backend)
        backend.add_schema(SCHEMA)
        backend.keep_with_session("reminders")

    async def add(self, reminder: Reminder, limit: int) -> bool:
        def add(db: sqlite3.Connection) -> bool:
            (held,) = db.execute(
                "SELECT COUNT(*) FROM reminders WHERE session_id = ?",
                (reminder.session_id,),
            ).fetchone()
            if held >= limit:
                return False
            db.execute(
                "INSERT INTO reminders (id, session_id, title, description, due_at, due_iso, created_at, "
                "status, attempts, delivered_at, claimable_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    reminder.reminder_id,
                    reminder.session_id,
                    reminder.title,
                    reminder.description,
                    reminder.due_at,
                    reminder.due_iso,
                    reminder.created_at,
                    reminder.status,
                    reminder.attempts,
                    reminder.delivered_at,
                    reminder.due_at,
                ),
            )
            return True

        return await self.backend.write(add)

    async def list_for(self, session_id: str) -> list[Reminder]:
        def query(db: sqlite3.Connection) -> list[Reminder]:
            rows = db.execute(_SELECT + "WHERE session_id = ? ORDER BY due_at, created_at", (session_id,))
            return [Reminder(*row) for row in rows]

        return await self.backend.read(query)

    async def claim_due(self, now: int, lease_ms: int, count: int) -> list[Reminder]:
        # One UPDATE inside BEGIN IMMEDIATE: the write lock is held from the SELECT of due rows to
        # their marking, so two processes sharing the file never claim the same reminder.
        def claim(db: sqlite3.Connection) -> list[Reminder]:
            db.execute(
                "DELETE FROM reminders WHERE status IN ('delivered', 'failed') AND due_at < ?",
                (now - REMINDERS_KEPT_MS,),
            )
            rows = db.execute(
                "UPDATE reminders SET status = 'claimed', claimable_at = ? WHERE id IN ("
                "SELECT id FROM reminders WHERE status IN ('pending', 'claimed') AND claimable_at <= ? "
                "ORDER BY claimable_at LIMIT ?) "
                "RETURNING id, session_id, title, description, due_at, due_iso, created_at, 'pending', "
                "attempts, delivered_at",
                (now + lease_ms, now, count),
            ).fetchall()
            return sorted((Reminder(*row) for row in rows), key=lambda reminder: reminder.due_at)

        return await self.backend.write(claim)

    async def complete(self, reminder: Reminder, now: int, delivered: bool) -> None:
        def complete(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE reminders SET status = ?, delivered_at = ?, attempts = attempts + 1 "
                "WHERE id = ? AND status = 'claimed'",
                ("delivered" if delivered else "failed", now if delivered else None, reminder.reminder_id),
            )

        await self.backend.write(complete)

    async def reschedule(self, reminder: Reminder, retry_at: int) -> None:
        def reschedule(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE reminders SET status = 'pending', claimable_at = ?, attempts = attempts + 1 "
                "WHERE id = ? AND status = 'claimed'",
                (retry_at, reminder.reminder_id),
            )

        await self.backend.write(reschedule)
