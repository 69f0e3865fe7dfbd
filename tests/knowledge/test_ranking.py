"""Ranking on a fixture corpus: recall@3 of BM25 alone, and of hybrid ranking with embeddings on."""

from __future__ import annotations

from pathlib import Path

from portfolio_backend.knowledge import Knowledge
from portfolio_backend.knowledge.embeddings import Embedder

from ..fixtures.upstream import ScriptedUpstream
from . import corpus
from .conftest import OpenKnowledge


async def recall_at_3(knowledge: Knowledge) -> float:
    hits = 0
    for question, (source, heading) in corpus.QUESTIONS.items():
        found = await knowledge.search(question, 3)
        hits += any(p.source == source and p.headings == (heading,) for p in found)
    return hits / len(corpus.QUESTIONS)


def test_the_corpus_is_big_enough_to_mean_something() -> None:
    assert sum(len(sections) for sections in corpus.FILES.values()) >= 40
    assert len(corpus.QUESTIONS) >= 25


async def test_bm25_recall_at_3_is_at_least_0_9(tmp_path: Path, open_knowledge: OpenKnowledge) -> None:
    async with open_knowledge(corpus.write(tmp_path / "corpus")) as knowledge:
        assert len(knowledge.snapshot.passages) >= 40
        recall = await recall_at_3(knowledge)
    print(f"BM25 recall@3 = {recall:.2f} over {len(corpus.QUESTIONS)} questions")
    assert recall >= 0.9


async def test_hybrid_recall_is_no_worse_than_bm25(
    tmp_path: Path, open_knowledge: OpenKnowledge, upstream: ScriptedUpstream
) -> None:
    directory = corpus.write(tmp_path / "corpus")
    async with open_knowledge(directory, index_path=tmp_path / "bm25.sqlite3") as knowledge:
        bm25 = await recall_at_3(knowledge)
    embedder = Embedder(model="scripted-embeddings", api_key="sk-test", base_url=upstream.base_url)
    async with open_knowledge(directory, embedder=embedder) as knowledge:
        assert knowledge.status()["ranking"] == "hybrid"
        hybrid = await recall_at_3(knowledge)
    print(f"recall@3: BM25 {bm25:.2f}, hybrid {hybrid:.2f}")
    assert hybrid >= bm25
    # the passages were embedded at build, each question once per search
    embedded = sum(len(r["input"]) for r in upstream.embedding_requests)
    assert embedded == len(knowledge.snapshot.passages) + len(corpus.QUESTIONS)
