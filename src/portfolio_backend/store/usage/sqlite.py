"""Usage on SQLite: a row per day, per (day, visitor) and per (day, session), changed by UPSERTs
in one IMMEDIATE transaction, which serialises writers across processes."""

from __future__ import annotations

import sqlite3

from ..sqlite import SqliteBackend, SqlitePart, SqliteStep
from . import BudgetKind, BudgetState, DayUsage, Reservation, TallyUsage, TurnUsage, UsageStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS usage_days (
    day                INTEGER PRIMARY KEY,
    turns              INTEGER NOT NULL DEFAULT 0,
    visitors           INTEGER NOT NULL DEFAULT 0,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    cached_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    micro_usd          INTEGER NOT NULL DEFAULT 0,
    estimated_turns    INTEGER NOT NULL DEFAULT 0,
    reserved_micro_usd INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS usage_visitors (
    day             INTEGER NOT NULL,
    visitor         TEXT NOT NULL,
    turns           INTEGER NOT NULL DEFAULT 0,
    tokens          INTEGER NOT NULL DEFAULT 0,
    micro_usd       INTEGER NOT NULL DEFAULT 0,
    reserved_tokens INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, visitor)
);
CREATE TABLE IF NOT EXISTS usage_sessions (
    day        INTEGER NOT NULL,
    session_id TEXT NOT NULL,
    turns      INTEGER NOT NULL DEFAULT 0,
    tokens     INTEGER NOT NULL DEFAULT 0,
    micro_usd  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, session_id)
);
"""

_DAY_COLUMNS = (
    "turns, visitors, prompt_tokens, cached_tokens, completion_tokens, micro_usd, estimated_turns, reserved_micro_usd"
)


class SqliteUsageStore(SqlitePart, UsageStore):
    def __init__(self, backend: SqliteBackend) -> None:
        super().__init__(backend)
        backend.add_schema(SCHEMA)

    def reserve_step(
        self, reservation: Reservation, *, day_limit_micro_usd: int, visitor_limit_tokens: int, keep_days: int
    ) -> SqliteStep[BudgetState]:
        day, visitor = reservation.day, reservation.visitor

        def reserve(db: sqlite3.Connection) -> BudgetState:
            row = db.execute("SELECT micro_usd + reserved_micro_usd FROM usage_days WHERE day = ?", (day,)).fetchone()
            day_usd = row[0] if row else 0
            row = db.execute(
                "SELECT tokens + reserved_tokens FROM usage_visitors WHERE day = ? AND visitor = ?", (day, visitor)
            ).fetchone()
            visitor_tokens = row[0] if row else 0
            if day_limit_micro_usd and day_usd >= day_limit_micro_usd:
                return BudgetState(BudgetKind.DAILY_USD, day_usd, visitor_tokens)
            if visitor_limit_tokens and visitor_tokens >= visitor_limit_tokens:
                return BudgetState(BudgetKind.VISITOR_TOKENS, day_usd, visitor_tokens)
            db.execute(
                "INSERT INTO usage_days (day, reserved_micro_usd) VALUES (?, ?) ON CONFLICT (day) "
                "DO UPDATE SET reserved_micro_usd = reserved_micro_usd + excluded.reserved_micro_usd",
                (day, reservation.micro_usd),
            )
            db.execute(
                "INSERT INTO usage_visitors (day, visitor, reserved_tokens) VALUES (?, ?, ?) "
                "ON CONFLICT (day, visitor) DO UPDATE SET reserved_tokens = reserved_tokens + excluded.reserved_tokens",
                (day, visitor, reservation.tokens),
            )
            return BudgetState(None, day_usd + reservation.micro_usd, visitor_tokens + reservation.tokens)

        return SqliteStep(reserve)

    def record_step(self, turn: TurnUsage, *, keep_days: int) -> SqliteStep[None]:
        held = turn.reservation

        def record(db: sqlite3.Connection) -> None:
            first_turn = not db.execute(
                "SELECT 1 FROM usage_visitors WHERE day = ? AND visitor = ? AND turns > 0", (held.day, held.visitor)
            ).fetchone()
            db.execute(
                "INSERT INTO usage_visitors (day, visitor, turns, tokens, micro_usd, reserved_tokens) "
                "VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (day, visitor) DO UPDATE SET turns = turns + 1, "
                "tokens = tokens + excluded.tokens, micro_usd = micro_usd + excluded.micro_usd, "
                "reserved_tokens = reserved_tokens + excluded.reserved_tokens",
                (held.day, held.visitor, turn.tokens, turn.micro_usd, -held.tokens),
            )
            db.execute(
                "INSERT INTO usage_days (day, turns, visitors, prompt_tokens, cached_tokens, completion_tokens, "
                "micro_usd, estimated_turns, reserved_micro_usd) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (day) DO UPDATE SET turns = turns + 1, visitors = visitors + excluded.visitors, "
                "prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
                "cached_tokens = cached_tokens + excluded.cached_tokens, "
                "completion_tokens = completion_tokens + excluded.completion_tokens, "
                "micro_usd = micro_usd + excluded.micro_usd, "
                "estimated_turns = estimated_turns + excluded.estimated_turns, "
                "reserved_micro_usd = reserved_micro_usd + excluded.reserved_micro_usd",
                (
                    held.day,
                    int(first_turn),
                    turn.prompt_tokens,
                    turn.cached_tokens,
                    turn.completion_tokens,
                    turn.micro_usd,
                    int(turn.estimated),
                    -held.micro_usd,
                ),
            )
            if turn.session_id:
                db.execute(
                    "INSERT INTO usage_sessions (day, session_id, turns, tokens, micro_usd) VALUES (?, ?, 1, ?, ?) "
                    "ON CONFLICT (day, session_id) DO UPDATE SET turns = turns + 1, "
                    "tokens = tokens + excluded.tokens, micro_usd = micro_usd + excluded.micro_usd",
                    (held.day, turn.session_id, turn.tokens, turn.micro_usd),
                )
            # retention: days older than keep_days go; a primary-key range, so next to free when empty
            for table in ("usage_days", "usage_visitors", "usage_sessions"):
                db.execute(f"DELETE FROM {table} WHERE day < ?", (held.day - keep_days,))

        return SqliteStep(record)

    def release_step(self, reservation: Reservation) -> SqliteStep[None]:
        def release(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE usage_days SET reserved_micro_usd = reserved_micro_usd - ? WHERE day = ?",
                (reservation.micro_usd, reservation.day),
            )
            db.execute(
                "UPDATE usage_visitors SET reserved_tokens = reserved_tokens - ? WHERE day = ? AND visitor = ?",
                (reservation.tokens, reservation.day, reservation.visitor),
            )

        return SqliteStep(release)

    async def day_micro_usd(self, day: int) -> int:
        def query(db: sqlite3.Connection) -> int:
            row = db.execute("SELECT micro_usd + reserved_micro_usd FROM usage_days WHERE day = ?", (day,)).fetchone()
            return int(row[0]) if row else 0

        return await self.backend.read(query)

    async def days(self, first: int, last: int) -> list[DayUsage]:
        def query(db: sqlite3.Connection) -> list[DayUsage]:
            rows = db.execute(
                f"SELECT day, {_DAY_COLUMNS} FROM usage_days WHERE day BETWEEN ? AND ?", (first, last)
            ).fetchall()
            found = {row[0]: DayUsage(*row) for row in rows}
            return [found.get(day, DayUsage(day)) for day in range(first, last + 1)]

        return await self.backend.read(query)

    async def visitor(self, day: int, visitor: str) -> TallyUsage:
        def query(db: sqlite3.Connection) -> TallyUsage:
            row = db.execute(
                "SELECT turns, tokens, micro_usd FROM usage_visitors WHERE day = ? AND visitor = ?", (day, visitor)
            ).fetchone()
            return TallyUsage(*row) if row else TallyUsage()

        return await self.backend.read(query)

    async def session(self, day: int, session_id: str) -> TallyUsage:
        def query(db: sqlite3.Connection) -> TallyUsage:
            row = db.execute(
                "SELECT turns, tokens, micro_usd FROM usage_sessions WHERE day = ? AND session_id = ?",
                (day, session_id),
            ).fetchone()
            return TallyUsage(*row) if row else TallyUsage()

        return await self.backend.read(query)
