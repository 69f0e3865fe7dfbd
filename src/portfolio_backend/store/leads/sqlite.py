"""Leads on SQLite: one row each, the oldest dropped past the cap."""

from __future__ import annotations

import sqlite3

from ..sqlite import SqliteBackend, SqlitePart
from . import LEADS_KEPT, Lead, LeadStore

SCHEMA = """
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


class SqliteLeadStore(SqlitePart, LeadStore):
    def __init__(self, backend: SqliteBackend) -> None:
        super().__init__(backend)
        backend.add_schema(SCHEMA)

    async def add(self, lead: Lead) -> None:
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
            db.execute("DELETE FROM leads WHERE seq <= (SELECT MAX(seq) FROM leads) - ?", (LEADS_KEPT,))

        await self.backend.write(add)

    async def newest(self, count: int) -> list[Lead]:
        def query(db: sqlite3.Connection) -> list[Lead]:
            rows = db.execute(
                "SELECT id, kind, created_at, session_id, email, name, notes, question FROM leads "
                "ORDER BY seq DESC LIMIT ?",
                (count,),
            )
            return [Lead(*row) for row in rows]

        return await self.backend.read(query)
