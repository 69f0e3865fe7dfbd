"""Secrets on SQLite: a row per secret, inserted only if absent."""

from __future__ import annotations

import sqlite3

from ..sqlite import SqliteBackend, SqlitePart
from . import SecretStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class SqliteSecretStore(SqlitePart, SecretStore):
    def __init__(self, backend: SqliteBackend) -> None:
        super().__init__(backend)
        backend.add_schema(SCHEMA)

    async def get_or_create(self, name: str, candidate: str) -> str:
        def get_or_create(db: sqlite3.Connection) -> str:
            db.execute(
                "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", (name, candidate)
            )
            return str(db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0])

        return await self.backend.write(get_or_create)
