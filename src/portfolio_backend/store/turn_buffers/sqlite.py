"""Turn buffers on SQLite: a row per running or recent turn, a row per event."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ...clock import now_ms
from ..sqlite import SqliteBackend, SqlitePart, SqliteStep
from . import TurnAppend, TurnBufferStore, TurnControl, TurnPage

SCHEMA = """
CREATE TABLE IF NOT EXISTS turn_buffers (
    turn_id    TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    stored     INTEGER NOT NULL DEFAULT 0,
    ended      INTEGER NOT NULL DEFAULT 0,
    stop       INTEGER NOT NULL DEFAULT 0,
    overflowed INTEGER NOT NULL DEFAULT 0,
    follow_at  INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS turn_buffers_by_session ON turn_buffers (session_id, started_at);
CREATE INDEX IF NOT EXISTS turn_buffers_by_expiry ON turn_buffers (expires_at);
CREATE TABLE IF NOT EXISTS turn_events (
    turn_id TEXT NOT NULL REFERENCES turn_buffers (turn_id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (turn_id, seq)
) WITHOUT ROWID;
"""

_LIVE = "turn_id = ? AND expires_at > ?"


def _sweep(db: sqlite3.Connection, now: int) -> None:
    db.execute("DELETE FROM turn_buffers WHERE expires_at <= ?", (now,))  # their events cascade


class SqliteTurnBufferStore(SqlitePart, TurnBufferStore):
    def __init__(self, backend: SqliteBackend) -> None:
        super().__init__(backend)
        backend.add_schema(SCHEMA)
        backend.add_sweep(_sweep)
        backend.keep_with_session("turn_buffers")

    def append_step(
        self,
        appends: Sequence[TurnAppend],
        *,
        now: int,
        ttl_seconds: int,
        max_events: int,
        running_ttl_seconds: int | None = None,  # a row here: a session's running turn is a query
    ) -> SqliteStep[list[TurnControl]]:
        expires_at = now + ttl_seconds * 1000

        def append_one(db: sqlite3.Connection, append: TurnAppend) -> TurnControl:
            turn_id = append.turn_id
            if append.begin is not None:
                # begun again after its buffer was lost: an expired row is not kept (nor its events)
                db.execute("DELETE FROM turn_buffers WHERE turn_id = ? AND expires_at <= ?", (turn_id, now))
                db.execute(
                    "INSERT OR IGNORE INTO turn_buffers (turn_id, session_id, started_at, expires_at) "
                    "VALUES (?, ?, ?, ?)",
                    (turn_id, append.begin, now, expires_at),
                )
            row = db.execute(
                f"SELECT stored, stop, follow_at FROM turn_buffers WHERE {_LIVE}", (turn_id, now)
            ).fetchone()
            if row is None:
                return TurnControl(False, 0, gone=True)
            stored, stop, follow_at = row
            overflowed = False
            fresh: list[tuple[str, int, str]] = []
            for seq, event in append.events:
                if seq != stored + len(fresh) + 1:
                    continue
                if stored + len(fresh) >= max_events:
                    overflowed = True
                    break
                fresh.append((turn_id, seq, event))
            db.executemany("INSERT INTO turn_events (turn_id, seq, body) VALUES (?, ?, ?)", fresh)
            db.execute(
                "UPDATE turn_buffers SET stored = ?, ended = MAX(ended, ?), overflowed = MAX(overflowed, ?), "
                "expires_at = ? WHERE turn_id = ?",
                (stored + len(fresh), int(append.ended), int(overflowed), expires_at, turn_id),
            )
            return TurnControl(bool(stop), int(follow_at))

        def append_all(db: sqlite3.Connection) -> list[TurnControl]:
            if any(append.begin is not None for append in appends) and self._sweep_due():
                _sweep(db, now)  # by the callers' clock, like every expiry here
            return [append_one(db, append) for append in appends]

        return SqliteStep(append_all)

    async def read(self, turn_id: str, after: int, limit: int, now: int) -> TurnPage | None:
        def read(db: sqlite3.Connection) -> TurnPage | None:
            row = db.execute(
                f"SELECT session_id, stored, ended, overflowed, expires_at FROM turn_buffers WHERE {_LIVE}",
                (turn_id, now),
            ).fetchone()
            if row is None:
                return None
            session_id, stored, ended, overflowed, expires_at = row
            db.execute("UPDATE turn_buffers SET follow_at = ? WHERE turn_id = ?", (now, turn_id))
            events = db.execute(
                "SELECT seq, body FROM turn_events WHERE turn_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (turn_id, after, limit),
            ).fetchall()
            last = events[-1][0] if events else after
            return TurnPage(
                session_id,
                [(int(seq), body) for seq, body in events],
                bool(ended) and last >= stored,
                bool(overflowed),
                int(expires_at),
                bool(ended),
            )

        return await self.backend.write(read)

    async def request_stop(self, turn_id: str) -> bool:
        def stop(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "UPDATE turn_buffers SET stop = 1 WHERE turn_id = ? AND ended = 0 AND expires_at > ?",
                (turn_id, now_ms()),
            )
            return cursor.rowcount > 0

        return await self.backend.write(stop)

    async def running_turn(self, session_id: str) -> str | None:
        def running(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "SELECT turn_id FROM turn_buffers WHERE session_id = ? AND ended = 0 AND expires_at > ? "
                "ORDER BY started_at DESC LIMIT 1",
                (session_id, now_ms()),
            ).fetchone()
            return None if row is None else str(row[0])

        return await self.backend.read(running)
