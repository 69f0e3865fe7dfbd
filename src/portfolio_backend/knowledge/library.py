"""The owner's knowledge as the rest of the service uses it: load, reload, select for a turn, search.

`Knowledge.reload()` reads every source, hashes the bytes and rebuilds the index only when the hash
differs from the one stored (extraction, splitting and embedding are skipped otherwise). One bad
source never stops it: it is logged and listed in `status()`.

`select()` picks what a turn sends the model. When all the knowledge fits KNOWLEDGE_MAX_TOKENS it
is sent whole, in a fixed order (a stable prompt prefix the upstream can cache), and nothing is
retrieved; the index only names the best-matching sources for the visitor. Otherwise the best
passages for the prompt and the recent questions are packed into the budget.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from ..settings import Settings
from .documents import RawSource, UnreadableSource, extract
from .embeddings import Embedder, EmbeddingsUnavailable
from .index import KnowledgeError, KnowledgeIndex, Snapshot
from .passages import MAX_CHARS, TARGET_CHARS, Passage, split
from .query import fts_query
from .sources import FetchBounds, SourceFailure, fetch_pages, read_directory

log = logging.getLogger(__name__)

# Bump when extraction or splitting changes, so existing indexes are rebuilt.
FORMAT_VERSION = 1
# Candidates ranked per turn before packing the budget
_RANKED = 20


@dataclass(frozen=True, slots=True)
class KnowledgeConfig:
    directory: Path | None = None
    urls: tuple[str, ...] = ()
    sitemap: str | None = None
    index_path: Path | None = None  # None: in memory
    max_tokens: int = 1500
    max_file_bytes: int = 5_000_000
    fetch: FetchBounds = field(default_factory=FetchBounds)

    @classmethod
    def from_settings(cls, settings: Settings) -> KnowledgeConfig:
        return cls(
            directory=settings.knowledge_dir,
            urls=tuple(settings.knowledge_urls),
            sitemap=settings.knowledge_sitemap,
            index_path=settings.knowledge_index_path,
            max_tokens=settings.knowledge_max_tokens,
            max_file_bytes=settings.knowledge_max_bytes,
            fetch=FetchBounds(
                max_pages=settings.knowledge_max_pages,
                max_bytes=settings.knowledge_max_bytes,
                deadline=settings.knowledge_fetch_timeout,
            ),
        )

    @property
    def configured(self) -> bool:
        return bool(self.urls or self.sitemap or (self.directory and self.directory.is_dir()))


@dataclass(frozen=True, slots=True)
class Selection:
    """What one turn sends the model: `passages` (all of them when `whole`)."""

    passages: list[Passage]
    whole: bool


class Knowledge:
    def __init__(self, config: KnowledgeConfig, http: httpx2.AsyncClient, embedder: Embedder | None = None) -> None:
        self.config = config
        self.http = http
        self.embedder = embedder
        self.index = KnowledgeIndex(config.index_path)
        self._reloading = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx2.AsyncClient) -> Knowledge:
        embedder = None
        if settings.embeddings_model and settings.openai_api_key is not None:
            embedder = Embedder(
                model=settings.embeddings_model,
                api_key=settings.openai_api_key.get_secret_value(),
                base_url=settings.openai_base_url,
            )
        return cls(KnowledgeConfig.from_settings(settings), http, embedder)

    async def open(self) -> None:
        """Open the index and bring it up to date with the sources; a failure is logged, never raised."""
        try:
            await self.index.open(self.embedder.model if self.embedder else None)
            await self.reload()
        except KnowledgeError as exc:
            log.error("knowledge unavailable: %s", exc)

    async def close(self) -> None:
        await self.index.close()
        if self.embedder is not None:
            await self.embedder.close()

    @property
    def snapshot(self) -> Snapshot:
        return self.index.snapshot

    @property
    def available(self) -> bool:
        """Whether there is anything to answer from."""
        return bool(self.index.snapshot.passages)

    # loading -----------------------------------------------------------------------------------

    async def reload(self) -> bool:
        """Read the sources again; rebuild the index if they changed. Returns whether it was rebuilt.

        Raises KnowledgeError when the index cannot be written (what it held is still served)."""
        async with self._reloading:
            raw, failures = await self._read_sources()
            model = self.embedder.model if self.embedder else None
            content_hash = await asyncio.to_thread(_content_hash, raw, failures, model)  # up to pages x 5 MB
            if await self.index.current_hash() == content_hash:
                log.info("knowledge unchanged (%d passages)", len(self.index.snapshot.passages))
                return False
            documents, passages, extract_failures = await asyncio.to_thread(_extract_all, raw)
            failures += extract_failures
            vectors, embedding_error = await self._embed(passages)
            status = {
                "documents": documents,
                "failures": [failure.public() for failure in failures],
                "embeddings_error": embedding_error,
            }
            # an incomplete embedding is retried on the next reload: its hash never matches
            stored_hash = content_hash + (":incomplete" if embedding_error else "")
            rebuilt = await self.index.replace(stored_hash, passages, status, vectors)
            for failure in failures:
                log.warning("knowledge source %s not used: %s", failure.name, failure.reason)
            log.info(
                "knowledge %s: %d passages from %d sources (%d not used)",
                "rebuilt" if rebuilt else "built by another worker",
                len(self.index.snapshot.passages),
                len(documents),
                len(failures),
            )
            return rebuilt

    async def _read_sources(self) -> tuple[list[RawSource], list[SourceFailure]]:
        raw: list[RawSource] = []
        failures: list[SourceFailure] = []
        if self.config.directory is not None:
            raw, failures = await asyncio.to_thread(read_directory, self.config.directory, self.config.max_file_bytes)
        if self.config.urls or self.config.sitemap:
            pages, page_failures = await fetch_pages(
                self.http, list(self.config.urls), self.config.sitemap, self.config.fetch
            )
            raw += pages
            failures += page_failures
        return raw, failures

    async def _embed(self, passages: list[Passage]) -> tuple[dict[str, list[float]], str | None]:
        if self.embedder is None or not passages:
            return {}, None
        missing = await self.index.missing_vectors(passages, self.embedder.model)
        unique = list({p.text_hash: p for p in missing}.values())
        try:
            vectors = await self.embedder.embed([_embedding_text(p) for p in unique])
        except EmbeddingsUnavailable as exc:
            log.warning("knowledge embeddings unavailable (%s): BM25 ranking only", exc)
            return {}, str(exc)
        return {p.text_hash: vector for p, vector in zip(unique, vectors, strict=True)}, None

    # answering ---------------------------------------------------------------------------------

    async def select(self, prompt: str, recent: list[str] | None = None) -> Selection:
        """The passages for one turn: all of them when they fit KNOWLEDGE_MAX_TOKENS (no search at
        all), else the best for the prompt and the recent questions it may follow up on, within it.

        Which of them the visitor is shown as sources is decided after the answer, by what it cited
        or used (knowledge/attribution.py); searching here for sources to show was ~0.8 ms of a
        turn's CPU for a list nobody read once sources followed the answer (docs/performance.md).
        """
        snapshot = await self.index.refresh()
        if not snapshot.passages:
            return Selection([], False)
        if snapshot.tokens <= self.config.max_tokens:
            return Selection(list(snapshot.passages), True)
        query = " ".join([prompt, *(recent or [])])
        passages: list[Passage] = []
        budget = self.config.max_tokens
        for passage in await self.search(query, _RANKED):
            cost = passage.tokens()
            if cost <= budget:
                passages.append(passage)
                budget -= cost
        return Selection(passages, False)

    async def search(self, query: str, limit: int, *, match: str | None = None) -> list[Passage]:
        """The best passages for free text: BM25, fused with cosine ranking when vectors exist."""
        match = match if match is not None else fts_query(query)
        vector = None
        if self.embedder is not None and self.index.snapshot.matrix is not None:
            try:
                vector = await self.embedder.embed_query(query)
            except EmbeddingsUnavailable as exc:
                log.warning("question not embedded (%s): BM25 ranking only", exc)
        if match is None and vector is None:
            return []
        return [hit.passage for hit in await self.index.search(match, vector, limit)]

    def status(self) -> dict[str, Any]:
        """What GET /admin/knowledge shows: sources used and not used, size, mode, index file."""
        snapshot = self.index.snapshot
        stored = snapshot.status
        return {
            "index": self.index.location,
            "content_hash": (snapshot.content_hash or "").split(":")[0] or None,
            "passages": len(snapshot.passages),
            "tokens": snapshot.tokens,
            "max_tokens": self.config.max_tokens,
            "mode": "whole" if snapshot.tokens <= self.config.max_tokens else "retrieval",
            "ranking": "hybrid" if snapshot.matrix is not None else "bm25",
            "embeddings_model": self.embedder.model if self.embedder else None,
            "embeddings_error": stored.get("embeddings_error"),
            "documents": stored.get("documents", []),
            "failures": stored.get("failures", []),
        }


def _content_hash(raw: list[RawSource], failures: list[SourceFailure], model: str | None) -> str:
    digest = hashlib.sha256(f"v{FORMAT_VERSION}:{TARGET_CHARS}:{MAX_CHARS}:{model}".encode())
    for source in sorted(raw, key=lambda s: s.name):
        digest.update(f"\0{source.name}\0{source.media}\0".encode())
        digest.update(hashlib.sha256(source.data).digest())
    for failure in sorted(failures, key=lambda f: f.name):
        digest.update(f"\0!{failure.name}\0{failure.reason}".encode())
    return digest.hexdigest()


def _extract_all(raw: list[RawSource]) -> tuple[list[dict[str, Any]], list[Passage], list[SourceFailure]]:
    """Documents and passages from every source (blocking: runs in a thread)."""
    documents: list[dict[str, Any]] = []
    passages: list[Passage] = []
    failures: list[SourceFailure] = []
    for source in raw:
        try:
            document = extract(source)
        except UnreadableSource as exc:
            failures.append(SourceFailure(source.name, str(exc)))
            continue
        pieces = split(document)
        if not pieces:
            failures.append(SourceFailure(source.name, "no readable text"))
            continue
        passages.extend(pieces)
        documents.append(
            {
                "source": source.name,
                "kind": "url" if source.is_url else "file",
                "title": document.title,
                "passages": len(pieces),
            }
        )
    return documents, passages, failures


def _embedding_text(passage: Passage) -> str:
    return "\n".join(part for part in (passage.title, passage.section, passage.text) if part)
