"""The knowledge index: one SQLite file with an FTS5 table (BM25) and, optionally, passage vectors.

It does not depend on the session store: every replica builds the same index from the same
sources, in its own file. The index is rebuilt only when the sources' content hash changes; the
check and the rebuild are one `BEGIN IMMEDIATE` transaction, so workers sharing the file build it
once. Vectors are kept by passage text and model, so a rebuild embeds only passages that changed.

Everything runs on the index's own thread (one connection, one hop per call), like the SQLite store.
Each call first compares `PRAGMA data_version`: when another process rebuilt the file, this one
reloads its in-memory copy (the passage list and the vector matrix) before answering.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from ..errors import PortfolioError
from .passages import Passage

log = logging.getLogger(__name__)
_T = TypeVar("_T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS passages USING fts5(
    title, section, text,
    source UNINDEXED, is_url UNINDEXED, headings UNINDEXED, position UNINDEXED, text_hash UNINDEXED,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS vectors (
    text_hash TEXT NOT NULL,
    model     TEXT NOT NULL,
    vector    BLOB NOT NULL,
    PRIMARY KEY (text_hash, model)
);
"""

# BM25 weights of title, section (heading path) and text: a heading names what a passage is about;
# a title is shared by every passage of its document, so it counts least.
_BM25 = "bm25(passages, 0.5, 2.0, 1.0)"
# Reciprocal rank fusion's constant, as in the paper that introduced it (Cormack et al., 2009).
RRF_K = 60
# Candidates each ranking contributes to the fusion.
_CANDIDATES = 30
# How stale a turn's first look at the snapshot may be: another worker's rebuild is seen within it
REFRESH_SECONDS = 1.0

Vector = npt.NDArray[np.float32]


class KnowledgeError(PortfolioError):
    """The index file could not be read or written; callers go on without knowledge."""


@dataclass(slots=True)
class Snapshot:
    """What the index holds, as loaded in memory: passages in order, and their unit vectors if any.

    Built once per load, so a turn pays for none of it: `rowids` maps a passage's place
    (source, position) to its row, `tokens` is the size of everything.
    """

    content_hash: str | None = None
    passages: list[Passage] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    matrix: Vector | None = None  # one row per passage (same order), unit length
    rowids: dict[tuple[str, int], int] = field(default_factory=dict)
    tokens: int = 0

    def __post_init__(self) -> None:
        self.rowids = {_key(p): number for number, p in enumerate(self.passages, 1)}
        self.tokens = sum(passage.tokens() for passage in self.passages)


@dataclass(frozen=True, slots=True)
class Hit:
    passage: Passage
    score: float


class KnowledgeIndex:
    def __init__(self, path: Path | None, *, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout
        self.location = str(path) if path else ":memory:"
        self.snapshot = Snapshot()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="knowledge-index")
        self._db: sqlite3.Connection | None = None
        self._data_version = -1
        self._refreshed_at = -REFRESH_SECONDS  # monotonic: the first refresh looks
        self._model: str | None = None

    async def open(self, model: str | None) -> None:
        """Open the file (or, when it cannot be written, an in-memory index) and load what it holds."""
        self._model = model
        await self._run(self._open)

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        except (sqlite3.Error, OSError) as exc:
            raise KnowledgeError(f"knowledge index {self.location}: {exc}") from exc

    def _open(self) -> None:
        db: sqlite3.Connection | None = None
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = self._connect(str(self.path))
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(SCHEMA)
            except (sqlite3.Error, OSError) as exc:
                log.warning("knowledge index %s cannot be written (%s): building it in memory instead", self.path, exc)
                db = None
        if db is None:
            self.location = ":memory:"
            db = self._connect(":memory:")
            db.executescript(SCHEMA)
        self._db = db
        self._sync()

    def _connect(self, where: str) -> sqlite3.Connection:
        return sqlite3.connect(where, timeout=self.timeout, isolation_level=None, check_same_thread=False)

    def _conn(self) -> sqlite3.Connection:
        assert self._db is not None, "KnowledgeIndex.open() first"
        return self._db

    def _sync(self) -> None:
        """Reload the snapshot when the file changed since it was loaded (another worker rebuilt it)."""
        db = self._conn()
        version = int(db.execute("PRAGMA data_version").fetchone()[0])
        if version == self._data_version:
            return
        self._data_version = version
        self.snapshot = self._load(db)

    def _load(self, db: sqlite3.Connection) -> Snapshot:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        rows = db.execute(
            "SELECT title, text, source, is_url, headings, position FROM passages ORDER BY rowid"
        ).fetchall()
        passages = [
            Passage(source, bool(is_url), title, tuple(json.loads(headings)), text, int(position))
            for title, text, source, is_url, headings, position in rows
        ]
        snapshot = Snapshot(meta.get("content_hash"), passages, json.loads(meta.get("status", "{}")))
        if self._model and passages:
            found = dict(
                db.execute(
                    "SELECT v.text_hash, v.vector FROM vectors v JOIN passages p ON p.text_hash = v.text_hash "
                    "WHERE v.model = ?",
                    (self._model,),
                ).fetchall()
            )
            hashes = [passage.text_hash for passage in passages]
            if all(h in found for h in hashes):
                snapshot.model = self._model
                snapshot.matrix = np.vstack([np.frombuffer(found[h], dtype=np.float32) for h in hashes])
        return snapshot

    # building ----------------------------------------------------------------------------------

    async def current_hash(self) -> str | None:
        await self._run(self._sync)
        return self.snapshot.content_hash

    async def missing_vectors(self, passages: Sequence[Passage], model: str) -> list[Passage]:
        """The passages that have no stored vector for `model` yet."""

        def find() -> list[Passage]:
            db = self._conn()
            stored = {row[0] for row in db.execute("SELECT text_hash FROM vectors WHERE model = ?", (model,))}
            return [p for p in passages if p.text_hash not in stored]

        return await self._run(find)

    async def replace(
        self,
        content_hash: str,
        passages: Sequence[Passage],
        status: dict[str, Any],
        vectors: dict[str, list[float]],
    ) -> bool:
        """Replace the whole index in one transaction, unless another process just built this hash.

        Returns whether this call wrote it.
        """

        def write() -> bool:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT value FROM meta WHERE key = 'content_hash'").fetchone()
                if row is not None and row[0] == content_hash:
                    db.execute("ROLLBACK")
                    # another worker built it while this one read its sources: load what it wrote,
                    # or this worker would answer from the empty index it opened
                    self._sync()
                    return False
                db.execute("DELETE FROM passages")
                db.executemany(
                    "INSERT INTO passages (rowid, title, section, text, source, is_url, headings, position, text_hash)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            number,
                            p.title,
                            p.section,
                            p.text,
                            p.source,
                            int(p.is_url),
                            json.dumps(p.headings, ensure_ascii=False),
                            p.position,
                            p.text_hash,
                        )
                        for number, p in enumerate(passages, 1)
                    ],
                )
                if self._model:
                    db.executemany(
                        "INSERT OR REPLACE INTO vectors (text_hash, model, vector) VALUES (?, ?, ?)",
                        [(h, self._model, _unit(v).tobytes()) for h, v in vectors.items()],
                    )
                    # vectors no passage uses any more
                    db.execute("DELETE FROM vectors WHERE text_hash NOT IN (SELECT text_hash FROM passages)")
                db.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [("content_hash", content_hash), ("status", json.dumps(status, ensure_ascii=False))],
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            self._data_version = -1
            self._sync()
            return True

        return await self._run(write)

    async def refresh(self) -> Snapshot:
        """The snapshot, reloaded first if another process rebuilt the file (looked at most every
        REFRESH_SECONDS: a hop to the index's thread per turn was 4 % of a turn's CPU; every search
        looks again on its own hop anyway)."""
        now = time.monotonic()
        if now - self._refreshed_at >= REFRESH_SECONDS:
            self._refreshed_at = now
            await self._run(self._sync)
        return self.snapshot

    # searching ---------------------------------------------------------------------------------

    async def search(self, match: str | None, query_vector: list[float] | None, limit: int) -> list[Hit]:
        """The best passages: BM25 over FTS5, fused with cosine ranking when a query vector is given."""
        return await self._run(self._search, match, query_vector, limit)

    def _search(self, match: str | None, query_vector: list[float] | None, limit: int) -> list[Hit]:
        self._sync()
        snapshot = self.snapshot
        lexical: list[Passage] = []
        if match:
            rows = self._conn().execute(
                f"SELECT rowid, {_BM25} AS rank FROM passages WHERE passages MATCH ? ORDER BY rank LIMIT ?",
                (match, max(limit, _CANDIDATES)),
            )
            lexical = [snapshot.passages[rowid - 1] for rowid, _ in rows if 0 < rowid <= len(snapshot.passages)]
        if query_vector is None or snapshot.matrix is None:
            return [Hit(p, 1.0 / (RRF_K + rank)) for rank, p in enumerate(lexical[:limit], 1)]
        similarity = snapshot.matrix @ _unit(query_vector)
        count = min(_CANDIDATES, len(similarity))
        top = np.argpartition(-similarity, count - 1)[:count]
        order = top[np.argsort(-similarity[top])]
        semantic = [snapshot.passages[int(i)] for i in order]
        scores: dict[int, float] = {}
        for ranking in (lexical, semantic):
            for rank, passage in enumerate(ranking, 1):
                row = snapshot.rowids[_key(passage)]
                scores[row] = scores.get(row, 0.0) + 1.0 / (RRF_K + rank)
        best = sorted(scores.items(), key=lambda item: -item[1])[:limit]
        return [Hit(snapshot.passages[row - 1], score) for row, score in best]

    async def close(self) -> None:
        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        try:
            await self._run(shut)
        finally:
            self._executor.shutdown(wait=False)


def _key(passage: Passage) -> tuple[str, int]:
    """A passage's place: unique within one build of the index."""
    return (passage.source, passage.position)


def _unit(values: Sequence[float] | Vector) -> Vector:
    vector = np.asarray(values, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector
