"""Feedback on SQLite: one row per rated turn; a new rating replaces the row, the oldest dropped past the cap."""

from __future__ import annotations

import sqlite3

from ..sqlite import SqliteBackend, SqlitePart
from . import FEEDBACK_KEPT, Feedback, FeedbackStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    turn_id    TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    visitor    TEXT NOT NULL,
    rating     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    comment    TEXT,
    question   TEXT NOT NULL,
    answer     TEXT NOT NULL
);
"""

_COLUMNS = "turn_id, session_id, visitor, rating, created_at, comment, question, answer"


class SqliteFeedbackStore(SqlitePart, FeedbackStore):
    def __init__(self, backend: SqliteBackend) -> None:
        super().__init__(backend)
        backend.add_schema(SCHEMA)

    async def rate(self, feedback: Feedback) -> None:
        def rate(db: sqlite3.Connection) -> None:
            # a replaced rating gets a new seq: it is the newest now
            db.execute("DELETE FROM feedback WHERE turn_id = ?", (feedback.turn_id,))
            db.execute(
                f"INSERT INTO feedback ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    feedback.turn_id,
                    feedback.session_id,
                    feedback.visitor,
                    feedback.rating,
                    feedback.created_at,
                    feedback.comment,
                    feedback.question,
                    feedback.answer,
                ),
            )
            db.execute(
                "DELETE FROM feedback WHERE seq NOT IN (SELECT seq FROM feedback ORDER BY seq DESC LIMIT ?)",
                (FEEDBACK_KEPT,),
            )

        await self.backend.write(rate)

    async def newest(self, count: int, rating: str | None = None) -> list[Feedback]:
        def query(db: sqlite3.Connection) -> list[Feedback]:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM feedback WHERE ? IS NULL OR rating = ? ORDER BY seq DESC LIMIT ?",
                (rating, rating, count),
            )
            return [Feedback(*row) for row in rows]

        return await self.backend.read(query)
