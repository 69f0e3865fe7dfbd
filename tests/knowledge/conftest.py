"""Knowledge built from real files in a temporary directory, with its index in a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest

from portfolio_backend.knowledge import Knowledge, KnowledgeConfig
from portfolio_backend.knowledge.embeddings import Embedder

OpenKnowledge = Callable[..., AbstractAsyncContextManager[Knowledge]]


@pytest.fixture
def open_knowledge(tmp_path: Path) -> OpenKnowledge:
    """`async with open_knowledge(directory, **config) as knowledge`: opened, loaded, closed at the end."""

    @asynccontextmanager
    async def build(
        directory: Path | None, *, embedder: Embedder | None = None, **config: Any
    ) -> AsyncIterator[Knowledge]:
        config.setdefault("index_path", tmp_path / "knowledge.sqlite3")
        async with httpx2.AsyncClient(timeout=5.0) as http:
            knowledge = Knowledge(KnowledgeConfig(directory=directory, **config), http, embedder)
            await knowledge.open()
            try:
                yield knowledge
            finally:
                await knowledge.close()

    return build


def write_files(directory: Path, files: dict[str, str | bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return directory
