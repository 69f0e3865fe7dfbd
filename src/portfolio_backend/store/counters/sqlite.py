"""Counters on SQLite: one row per counter, with the wall-clock time it may be dropped."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from ..sqlite import SqliteBackend, SqlitePart, SqliteStep
from . import CounterCheck, CounterState, CounterStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key        TEXT PRIMARY KEY,
    count      INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
"""


def _sweep(db: sqlite3.Connection, now: int) -> None:
    db.execute("DELETE FROM counters WHERE expires_at < ?", (now / 1000,))


class SqliteCounterStore(SqlitePart, CounterStore):
    def __init__(self, backend: SqliteBackend) -> None:
        super().__init__(backend)
        backend.add_schema(SCHEMA)
        backend.add_sweep(_sweep)

    def hit_step(self, checks: Sequence[CounterCheck]) -> SqliteStep[CounterState]:
        def charge(db: sqlite3.Connection) -> CounterState:
            now = time.time()
            if self._sweep_due():
                _sweep(db, int(now * 1000))
            counts = []
            for check in checks:
                row = db.execute("SELECT count FROM counters WHERE key = ?", (check.key,)).fetchone()
                counts.append(int(row[0]) if row else 0)
            for position, (check, count) in enumerate(zip(checks, counts, strict=True)):
                if count >= check.limit:
                    return CounterState(False, tuple(counts), position)
            db.executemany(
                "INSERT INTO counters (key, count, expires_at) VALUES (?, 1, ?) "
                "ON CONFLICT (key) DO UPDATE SET count = count + 1",
                [(check.key, now + check.ttl_seconds) for check in checks],
            )
            return CounterState(True, tuple(count + 1 for count in counts))

        return SqliteStep(charge)

    async def peek(self, key: str) -> int:
        def read(db: sqlite3.Connection) -> int:
            row = db.execute("SELECT count FROM counters WHERE key = ?", (key,)).fetchone()
            return int(row[0]) if row else 0

        return await self.backend.read(read)

    def release_step(self, keys: Sequence[str]) -> SqliteStep[None]:
        def release(db: sqlite3.Connection) -> None:
            db.executemany(
                "UPDATE counters SET count = count - 1 WHERE key = ? AND count > 0",
                [(key,) for key in keys],
            )

        return SqliteStep(release)
