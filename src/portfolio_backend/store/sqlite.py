"""The embedded backend every domain shares: one SQLite file, one connection, one thread.

Safe for several uvicorn workers on one host. Each store operation is one plain function run whole
on the backend's own single thread, so a transaction is a single hop off the event loop and two
coroutines can never interleave statements on the shared connection (which per-statement bridges
such as aiosqlite would allow). Across processes, WAL mode plus `BEGIN IMMEDIATE` and a busy
timeout serialise writers. Each domain brings its own tables (`add_schema`); domain stores build
on `SqlitePart`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from .base import Backend, Step, StoreContract, StoreError

_T = TypeVar("_T")
_A = TypeVar("_A")

SQLITE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, OSError, TimeoutError)

# The health probe's write waits at most this long for the write lock, so probes stay under
# /health's deadline and cannot hold the store's one thread for long.
_PROBE_BUSY_MS = 500

# Expired rows are swept at most this often, so reads stay index lookups.
SWEEP_EVERY_SECONDS = 60.0

# A sweep: delete a domain's rows that expired before `now` (ms since the epoch, wall clock).
Sweep = Callable[[sqlite3.Connection, int], None]


@dataclass(frozen=True, slots=True)
class SqliteStep(Step[_T]):
    """A store operation as a function of the connection, run inside a batch's one transaction."""

    run: Callable[[sqlite3.Connection], _T]


def _sqlite_step(step: Step[Any]) -> SqliteStep[Any]:
    if not isinstance(step, SqliteStep):
        raise TypeError(f"a SQLite backend cannot run {type(step).__name__}")
    return step


class SqliteBackend(Backend):
    name = "sqlite"
    backend_errors = SQLITE_ERRORS

    def __init__(self, path: Path, *, timeout: float = 2.0) -> None:
        self.path = path
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._db: sqlite3.Connection | None = None
        self._schema: list[str] = []
        self._sweeps: list[Sweep] = []
        # tables whose rows (by `session_id`) a deleted session takes with it
        self.session_tables: list[str] = []
        # write transactions run so far: what a turn costs the file (tests/perf/test_round_trips.py)
        self.transactions = 0

    def add_schema(self, ddl: str) -> None:
        """A domain's tables and indexes (`CREATE ... IF NOT EXISTS`), run when the file opens."""
        self._schema.append(ddl)

    def add_sweep(self, sweep: Sweep) -> None:
        """A clean-up of rows expired by the wall clock; `check` runs them all as its write probe."""
        self._sweeps.append(sweep)

    def keep_with_session(self, table: str) -> None:
        """Declare a table with a `session_id` column whose rows a deleted session takes with it."""
        self.session_tables.append(table)

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
        for ddl in self._schema:
            db.executescript(ddl)
        self._db = db

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._open()
        assert self._db is not None
        return self._db

    async def read(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `fn` on the store's thread with the connection (no transaction: one statement, or reads)."""
        return await self._run(lambda: fn(self._conn()))

    async def write(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `fn` on the store's thread in one IMMEDIATE transaction."""
        return await self._run(self._write, fn)

    async def run_steps(self, steps: Sequence[Step[Any]]) -> list[Any]:
        runs = [_sqlite_step(step).run for step in steps]
        return await self.write(lambda db: [run(db) for run in runs])

    async def run_then(self, first: Step[_A], then: Callable[[_A], Sequence[Step[Any]]]) -> tuple[_A, list[Any]]:
        read = _sqlite_step(first).run

        def both(db: sqlite3.Connection) -> tuple[_A, list[Any]]:
            result = read(db)
            return result, [_sqlite_step(step).run(db) for step in then(result)]

        return await self.write(both)

    def _write(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        # the write lock is taken up front, so no upgrade deadlock
        db = self._conn()
        self.transactions += 1
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    def _sweep(self, db: sqlite3.Connection) -> None:
        now = int(time.time() * 1000)
        for sweep in self._sweeps:
            sweep(db, now)

    async def check(self) -> None:
        def probe() -> None:
            db = self._conn()
            db.execute("SELECT 1").fetchone()
            # A write probe (the sweeps): a read-only or locked file must count as an outage.
            db.execute(f"PRAGMA busy_timeout = {min(_PROBE_BUSY_MS, int(self.timeout * 1000))}")
            try:
                self._write(self._sweep)
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


class SqlitePart(StoreContract):
    """Base of a domain store on SQLite: its errors become StoreError; `backend` runs its SQL."""

    name = "sqlite"
    backend_errors: ClassVar[tuple[type[BaseException], ...]] = SQLITE_ERRORS

    def __init__(self, backend: SqliteBackend) -> None:
        self.backend = backend
        self._last_sweep = 0.0

    async def run_step(self, step: Step[_T]) -> _T:
        result: _T = (await self.backend.run_steps([step]))[0]
        return result

    def _sweep_due(self) -> bool:
        """True at most once per SWEEP_EVERY_SECONDS: a domain sweeps its expired rows this often."""
        if time.monotonic() - self._last_sweep < SWEEP_EVERY_SECONDS:
            return False
        self._last_sweep = time.monotonic()
        return True
