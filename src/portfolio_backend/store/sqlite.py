"""The embedded store: one SQLite file, safe for several uvicorn workers on one host.

Each store operation is one plain function run whole on the store's own single thread, so a
transaction is a single hop off the event loop and two coroutines can never interleave statements
on the shared connection (which per-statement bridges such as aiosqlite would allow). Across
processes, WAL mode plus `BEGIN IMMEDIATE` and a busy timeout serialise writers.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from .base import (
    LEADS_KEPT,
    REMINDERS_KEPT_MS,
    CounterCheck,
    CounterState,
    Lead,
    Message,
    Reminder,
    SessionMeta,
    SessionRecord,
    Store,
    StoreError,
)

_T = TypeVar("_T")

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
CREATE TABLE IF NOT EXISTS counters (
    key        TEXT PRIMARY KEY,
    count      INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
-- reminders and leads
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
CREATE TABLE IF NOT EXISTS leads (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    session_id TEXT,
    email      TEXT,
    name       TEXT,
    notes      TEXT,
    question   TEXT
);
"""

# How long a health probe waits for a locked file, in ms: under /health's 0.8 s deadline.
_PROBE_BUSY_MS = 500

# Expired rows are swept at most this often, so reads stay index lookups.
_SWEEP_EVERY_SECONDS = 60.0


class SqliteStore(Store):
    name = "sqlite"
    backend_errors: ClassVar[tuple[type[BaseException], ...]] = (
        sqlite3.Error,
        OSError,
        TimeoutError,
    )

    def __init__(self, path: Path, *, timeout: float = 2.0) -> None:
        self.path = path
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._db: sqlite3.Connection | None = None
        self._last_sweep = 0.0

    async def open(self) -> None:
        try:
            await self._run(self._open)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                f"DATABASE_PATH {str(self.path)!r} cannot be opened ({exc}): point it at a writable file"
            ) from exc

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path,
            timeout=self.timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(SCHEMA)
        self._db = db

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._open()
        assert self._db is not None
        return self._db

    def _write(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `fn` in one IMMEDIATE transaction: the write lock is taken up front, so no upgrade deadlock."""
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    async def check(self) -> None:
        def probe() -> None:
            db = self._conn()
            db.execute("SELECT 1").fetchone()
            # A write probe: a read-only or locked file must count as an outage. Its wait is kept
            # under /health's deadline so probes cannot hold the store's one thread for long.
            db.execute(f"PRAGMA busy_timeout = {min(_PROBE_BUSY_MS, int(self.timeout * 1000))}")
            try:
                self._write(lambda db: db.execute("DELETE FROM counters WHERE expires_at < ?", (time.time(),)))
            finally:
                db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")

        await self._run(probe)

    async def close(self) -> None:
        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        try:
            await self._run(shut)
        finally:
            self._executor.shutdown(wait=False)

    # sessions ----------------------------------------------------------------------------------

    async def create_session(self, session_id: str, visitor: str, now: int, ttl_seconds: int) -> SessionMeta:
        def create(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO sessions (id, visitor, created_at, last_activity, expires_at) VALUES (?, ?, ?, ?, ?)",
                (session_id, visitor, now, now, now + ttl_seconds * 1000),
            )
            self._sweep(db, now)

        await self._run(self._write, create)
        return SessionMeta(session_id, visitor, now, now, 0)

    def _sweep(self, db: sqlite3.Connection, now: int) -> None:
        if time.monotonic() - self._last_sweep < _SWEEP_EVERY_SECONDS:
            return
        self._last_sweep = time.monotonic()
        db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
        db.execute("DELETE FROM counters WHERE expires_at < ?", (now / 1000,))

    async def load_session(self, session_id: str, now: int) -> SessionRecord | None:
        def load() -> SessionRecord | None:
            db = self._conn()
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

        return await self._run(load)

    async def append_turn(
        self,
        session_id: str,
        messages: list[Message],
        now: int,
        ttl_seconds: int,
        keep: int,
        release: str | None = None,
    ) -> bool:
        def append(db: sqlite3.Connection) -> bool:
            if release is not None:
                _release(db, (release,))
            updated = db.execute(
                "UPDATE sessions SET last_activity = ?, expires_at = ? WHERE id = ? AND expires_at > ?",
                (now, now + ttl_seconds * 1000, session_id, now),
            ).rowcount
            if not updated:
                return False
            db.executemany(
                "INSERT INTO messages (session_id, role, body) VALUES (?, ?, ?)",
                [(session_id, message.role, message.to_json()) for message in messages],
            )
            # keep the last `keep`, then drop leading non-user messages: trim at a turn boundary
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

        return await self._run(self._write, append)

    async def delete_session(self, session_id: str) -> bool:
        def delete(db: sqlite3.Connection) -> bool:
            db.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
            db.execute("DELETE FROM reminders WHERE session_id = ?", (session_id,))
            return db.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0

        return await self._run(self._write, delete)

    _META_SQL = (
        "SELECT s.id, s.visitor, s.created_at, s.last_activity, "
        "(SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) FROM sessions s "
    )

    async def list_sessions(self, visitor: str, now: int) -> list[SessionMeta]:
        def query() -> list[SessionMeta]:
            rows = self._conn().execute(
                self._META_SQL + "WHERE s.visitor = ? AND s.expires_at > ? ORDER BY s.created_at DESC",
                (visitor, now),
            )
            return [SessionMeta(*row) for row in rows]

        return await self._run(query)

    async def list_all_sessions(self, cursor: str, count: int, now: int) -> tuple[str, list[SessionMeta]]:
        def query() -> tuple[str, list[SessionMeta]]:
            rows = self._conn().execute(
                self._META_SQL + "WHERE s.id > ? AND s.expires_at > ? ORDER BY s.id LIMIT ?",
                (cursor, now, count),
            )
            metas = [SessionMeta(*row) for row in rows]
            return (metas[-1].session_id if len(metas) == count else ""), metas

        return await self._run(query)

    # counters ----------------------------------------------------------------------------------

    async def hit(self, checks: Sequence[CounterCheck]) -> CounterState:
        def charge(db: sqlite3.Connection) -> CounterState:
            counts = []
            for check in checks:
                row = db.execute("SELECT count FROM counters WHERE key = ?", (check.key,)).fetchone()
                counts.append(int(row[0]) if row else 0)
            for position, (check, count) in enumerate(zip(checks, counts, strict=True)):
                if count >= check.limit:
                    return CounterState(False, tuple(counts), position)
            expires = time.time()
            db.executemany(
                "INSERT INTO counters (key, count, expires_at) VALUES (?, 1, ?) "
                "ON CONFLICT (key) DO UPDATE SET count = count + 1",
                [(check.key, expires + check.ttl_seconds) for check in checks],
            )
            return CounterState(True, tuple(count + 1 for count in counts))

        return await self._run(self._write, charge)

    async def peek(self, key: str) -> int:
        def read() -> int:
            row = self._conn().execute("SELECT count FROM counters WHERE key = ?", (key,)).fetchone()
            return int(row[0]) if row else 0

        return await self._run(read)

    async def release(self, *keys: str) -> None:
        def decrement(db: sqlite3.Connection) -> None:
            _release(db, keys)

        await self._run(self._write, decrement)

    # reminders and leads -----------------------------------------------------------------------

    _REMINDER_SQL = (
        "SELECT id, session_id, title, description, due_at, due_iso, created_at, "
        "CASE status WHEN 'claimed' THEN 'pending' ELSE status END, attempts, delivered_at FROM reminders "
    )

    async def add_reminder(self, reminder: Reminder, limit: int) -> bool:
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

        return await self._run(self._write, add)

    async def list_reminders(self, session_id: str) -> list[Reminder]:
        def query() -> list[Reminder]:
            rows = self._conn().execute(
                self._REMINDER_SQL + "WHERE session_id = ? ORDER BY due_at, created_at",
                (session_id,),
            )
            return [Reminder(*row) for row in rows]

        return await self._run(query)

    async def claim_due_reminders(self, now: int, lease_ms: int, count: int) -> list[Reminder]:
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

        return await self._run(self._write, claim)

    async def complete_reminder(self, reminder: Reminder, now: int, delivered: bool) -> None:
        def complete(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE reminders SET status = ?, delivered_at = ?, attempts = attempts + 1 "
                "WHERE id = ? AND status = 'claimed'",
                (
                    "delivered" if delivered else "failed",
                    now if delivered else None,
                    reminder.reminder_id,
                ),
            )

        await self._run(self._write, complete)

    async def reschedule_reminder(self, reminder: Reminder, retry_at: int) -> None:
        def reschedule(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE reminders SET status = 'pending', claimable_at = ?, attempts = attempts + 1 "
                "WHERE id = ? AND status = 'claimed'",
                (retry_at, reminder.reminder_id),
            )

        await self._run(self._write, reschedule)

    async def add_lead(self, lead: Lead) -> None:
        def add(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO leads (id, kind, created_at, session_id, email, name, notes, question) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    lead.lead_id,
                    lead.kind,
                    lead.created_at,
                    lead.session_id,
                    lead.email,
                    lead.name,
                    lead.notes,
                    lead.question,
                ),
            )
            db.execute(
                "DELETE FROM leads WHERE seq <= (SELECT MAX(seq) FROM leads) - ?",
                (LEADS_KEPT,),
            )

        await self._run(self._write, add)

    async def list_leads(self, count: int) -> list[Lead]:
        def query() -> list[Lead]:
            rows = self._conn().execute(
                "SELECT id, kind, created_at, session_id, email, name, notes, question FROM leads "
                "ORDER BY seq DESC LIMIT ?",
                (count,),
            )
            return [Lead(*row) for row in rows]

        return await self._run(query)


def _release(db: sqlite3.Connection, keys: Sequence[str]) -> None:
    db.executemany(
        "UPDATE counters SET count = count - 1 WHERE key = ? AND count > 0",
        [(key,) for key in keys],
    )


__all__ = ["SqliteStore", "StoreError"]
