"""Passage and question vectors from the configured OpenAI-compatible endpoint (EMBEDDINGS_MODEL).

The official `openai` SDK, like the chat model: same key and base URL, its retries and typed
errors. Passages are embedded in batches when the index is built; a question once per turn that
retrieves (not when the whole knowledge fits the budget).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import openai
from openai import AsyncOpenAI

from ..errors import PortfolioError

log = logging.getLogger(__name__)

# Inputs per embeddings request: well under every provider's limit (OpenAI takes 2048).
BATCH = 64
# Characters of a question sent for embedding: the prompt plus a little history is plenty.
_QUERY_CHARS = 2000


class EmbeddingsUnavailable(PortfolioError):
    """The endpoint did not return vectors; retrieval falls back to BM25 alone."""


class Embedder:
    def __init__(self, *, model: str, api_key: str, base_url: str | None, timeout: float = 20.0) -> None:
        self.model = model
        self.client = AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=2)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            batch = list(texts[start : start + BATCH])
            try:
                response = await self.client.embeddings.create(model=self.model, input=batch)
            except openai.OpenAIError as exc:
                raise EmbeddingsUnavailable(f"{type(exc).__name__}: {getattr(exc, 'status_code', '')}") from exc
            ordered = sorted(response.data, key=lambda item: item.index)
            if len(ordered) != len(batch):
                raise EmbeddingsUnavailable(f"{len(ordered)} vectors for {len(batch)} inputs")
            vectors.extend(item.embedding for item in ordered)
        return vectors

    async def embed_query(self, text: str) -> list[float]:
        return (await self.embed([text[-_QUERY_CHARS:]]))[0]

    async def close(self) -> None:
        await self.client.close()
