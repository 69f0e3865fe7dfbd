"""What owner knowledge costs a turn: the retrieval step before the model is asked.

    uv run python -m bench.knowledge            # about 30 s; prints the table, writes bench/results/knowledge.json

In-process, on real SQLite files in a temporary directory, with the service's own `Knowledge`:
per turn, `Knowledge.select()` (what `ChatService.run_turn` awaits before asking the model),
timed as wall time on an idle event loop and as CPU time of the whole process (the index's thread
included), for

- the shipped example (data/knowledge): it fits KNOWLEDGE_MAX_TOKENS, so it is sent whole and the
  index only names the sources to show;
- the ranking fixture corpus (tests/knowledge/corpus.py, 44 passages) with a 300-token budget: BM25;
- a generated corpus of 5,000 passages (about a 500-page site) with the default budget: BM25;
- the same with hybrid ranking, the question embedded by the scripted upstream over loopback HTTP
  (tests/fixtures/upstream.py); a real embeddings API adds its own latency on top;

and the time to build each index from its files, and to open it again when nothing changed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/knowledge.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2

from portfolio_backend.knowledge import Knowledge, KnowledgeConfig
from portfolio_backend.knowledge.embeddings import Embedder
from tests.fixtures.upstream import ScriptedUpstream
from tests.knowledge import corpus

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def generated_corpus(directory: Path, passages: int, seed: int = 7) -> list[str]:
    """`passages` sections of ~120 words over a 6,000-word vocabulary, 25 to a file; questions from them."""
    rng = random.Random(seed)
    vocabulary = [f"{rng.choice('bcdfghjklmnpqrstvwz')}{rng.choice('aeiou')}{n:04d}x" for n in range(6000)]
    directory.mkdir(parents=True)
    questions: list[str] = []
    for file_number in range(0, passages, 25):
        sections = []
        for n in range(file_number, min(file_number + 25, passages)):
            words = rng.choices(vocabulary, k=120)
            sections.append(f"## Section {n}\n\n" + " ".join(words) + ".")
            if n % 50 == 0:
                questions.append("What about " + " ".join(rng.sample(words, 3)) + "?")
        (directory / f"page-{file_number // 25:04d}.md").write_text(f"# Page {file_number}\n\n" + "\n\n".join(sections))
    return questions


async def measure(knowledge: Knowledge, questions: list[str], rounds: int) -> dict[str, Any]:
    walls: list[float] = []
    cpu_start = time.process_time()
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            await knowledge.select(question, ["Tell me about the work"])
            walls.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu_start
    return {
        "turns": len(walls),
        "wall_ms_p50": round(statistics.median(walls) * 1000, 3),
        "wall_ms_p95": round(sorted(walls)[int(len(walls) * 0.95) - 1] * 1000, 3),
        "cpu_ms_per_turn": round(cpu / len(walls) * 1000, 3),
    }


async def case(
    name: str,
    directory: Path,
    questions: list[str],
    *,
    max_tokens: int,
    rounds: int,
    scratch: Path,
    embedder_url: str | None = None,
) -> dict[str, Any]:
    index = scratch / f"{name}.sqlite3"
    async with httpx2.AsyncClient() as http:
        results: dict[str, Any] = {"case": name}
        for phase in ("build", "reopen"):
            embedder = (
                Embedder(model="bench-embed", api_key="sk-bench", base_url=embedder_url) if embedder_url else None
            )
            knowledge = Knowledge(
                KnowledgeConfig(directory=directory, index_path=index, max_tokens=max_tokens), http, embedder
            )
            started = time.perf_counter()
            await knowledge.open()
            results[f"{phase}_ms"] = round((time.perf_counter() - started) * 1000, 1)
            if phase == "reopen":
                status = knowledge.status()
                results.update(passages=status["passages"], mode=status["mode"], ranking=status["ranking"])
                results.update(await measure(knowledge, questions, rounds))
            await knowledge.close()
    return results


async def run(rounds: int) -> list[dict[str, Any]]:
    upstream = ScriptedUpstream().start()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            fixture = corpus.write(root / "fixture")
            large_questions = generated_corpus(root / "large", 5000)
            return [
                await case(
                    "shipped example",
                    ROOT / "data" / "knowledge",
                    ["What are Alex's rates?", "Is Alex available in spring?", "Hello!"],
                    max_tokens=1500,
                    rounds=rounds * 10,
                    scratch=root,
                ),
                await case(
                    "fixture, 44 passages, BM25",
                    fixture,
                    list(corpus.QUESTIONS),
                    max_tokens=300,
                    rounds=rounds,
                    scratch=root,
                ),
                await case(
                    "5,000 passages, BM25",
                    root / "large",
                    large_questions,
                    max_tokens=1500,
                    rounds=rounds,
                    scratch=root,
                ),
                await case(
                    "5,000 passages, hybrid",
                    root / "large",
                    large_questions,
                    max_tokens=1500,
                    rounds=rounds,
                    embedder_url=upstream.base_url,
                    scratch=root,
                ),
            ]
    finally:
        upstream.stop()


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'case':<28} {'passages':>8} {'mode':>13} {'build ms':>9} {'reopen ms':>9} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'CPU ms':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['case']:<28} {r['passages']:>8} {r['mode'] + '/' + r['ranking']:>13} {r['build_ms']:>9} "
            f"{r['reopen_ms']:>9} {r['wall_ms_p50']:>7} {r['wall_ms_p95']:>7} {r['cpu_ms_per_turn']:>7}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="passes over each case's questions")
    parser.add_argument("--output", type=Path, default=RESULTS / "knowledge.json")
    args = parser.parse_args(argv)
    rows = asyncio.run(run(args.rounds))
    print(table(rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
