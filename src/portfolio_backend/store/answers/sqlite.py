"""Owner answers on SQLite: a row each, and a one-row version counter moved in the same transaction."""

from __future__ import annotations

import sqlite3

from ..sqlite import SqliteBackend, SqlitePart, SqliteStep
from . import ANSWERS_KEPT, OwnerAnswer, OwnerAnswerStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS owner_answers (
    id         TEXT PRIMARY KEY,
    question   TEXT NOT NULL,
    answer     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS owner_answers_version (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    version  INTEGER NOT NULL
);
"""

_COLUMNS = "id, question, answer, created_at, updated_at"


def _moved(db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO owner_answers_version (only_row, version) VALUES (1, 1) "
        "ON CONFLICT (only_row) DO UPDATE SET version = version + 1"
    )


def _version(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT version FROM owner_answers_version WHERE only_row = 1").fetchone()
    return 0 if row is None else int(row[0])


class SqliteOwnerAnswerStore(SqlitePart, OwnerAnswerStore):
    def __init__(self, backend: SqliteBackend) -> None:
        super().__init__(backend)
        backend.add_schema(SCHEMA)

    async def add(self, answer: OwnerAnswer) -> bool:
        def add(db: sqlite3.Connection) -> bool:
            (count,) = db.execute("SELECT COUNT(*) FROM owner_answers").fetchone()
            if count >= ANSWERS_KEPT:
                return False
            db.execute(
                f"INSERT INTO owner_answers ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (answer.answer_id, answer.question, answer.answer, answer.created_at, answer.updated_at),
            )
            _moved(db)
            return True

        return await self.backend.write(add)

    async def update(self, answer_id: str, question: str, answer: str, now: int) -> OwnerAnswer | None:
        def update(db: sqlite3.Connection) -> OwnerAnswer | None:
            row = db.execute(
                f"UPDATE owner_answers SET question = ?, answer = ?, updated_at = ? WHERE id = ? RETURNING {_COLUMNS}",
                (question, answer, now, answer_id),
            ).fetchone()
            if row is None:
                return None
            _moved(db)
            return OwnerAnswer(*row)

        return await self.backend.write(update)

    async def delete(self, answer_id: str) -> bool:
        def delete(db: sqlite3.Connection) -> bool:
            if db.execute("DELETE FROM owner_answers WHERE id = ?", (answer_id,)).rowcount == 0:
                return False
            _moved(db)
            return True

        return await self.backend.write(delete)

    async def all(self) -> tuple[int, list[OwnerAnswer]]:
        def query(db: sqlite3.Connection) -> tuple[int, list[OwnerAnswer]]:
            rows = db.execute(f"SELECT {_COLUMNS} FROM owner_answers ORDER BY updated_at DESC, id DESC")
            return _version(db), [OwnerAnswer(*row) for row in rows]

        return await self.backend.read(query)

    def version_step(self) -> SqliteStep[int]:
        return SqliteStep(_version)
