"""Visitor text never breaks FTS5, and a question finds the passage that answers it."""

from __future__ import annotations

from pathlib import Path

import pytest

from portfolio_backend.knowledge.query import fts_query

from .conftest import OpenKnowledge, write_files

NOTES = {
    "work.md": "# Work\n\n## Research\n\nAlex prototyped a multi-agent planner for literature reviews.\n\n"
    "## Contact\n\nEmail hello@alexdoe.example, or use the form at /contact.\n\n"
    '## Quotes\n\nA client said: "Alex\'s fixes cut our costs by 30% overnight."\n',
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("multi-agent", '"multi-agent"'),
        ("Alex's work?", '"Alex" OR "work"'),
        ('say "hi"there', '"say" OR "hi""there"'),
        ("What is the 30% discount / @handle", '"30" OR "discount" OR "handle"'),
    ],
)
def test_every_word_is_a_quoted_phrase(text: str, expected: str) -> None:
    assert fts_query(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "? @ % /", "what is the", "'"])
def test_text_without_a_searchable_word_is_no_query(text: str) -> None:
    assert fts_query(text) is None


@pytest.mark.parametrize(
    ("question", "section"),
    [
        ("Has Alex built multi-agent systems?", ("Research",)),
        ("What's Alex's email @?", ("Contact",)),
        ("Is the /contact form the way to reach him?", ("Contact",)),
        ("Which client cut costs by 30%?", ("Quotes",)),
        ('He said "fixes"?', ("Quotes",)),
    ],
)
async def test_questions_with_fts_syntax_characters_find_their_passage(
    tmp_path: Path, open_knowledge: OpenKnowledge, question: str, section: tuple[str, ...]
) -> None:
    async with open_knowledge(write_files(tmp_path / "k", NOTES)) as knowledge:
        found = await knowledge.search(question, 1)
        assert [p.headings for p in found] == [section]


async def test_a_question_of_only_symbols_finds_nothing_without_an_error(
    tmp_path: Path, open_knowledge: OpenKnowledge
) -> None:
    async with open_knowledge(write_files(tmp_path / "k", NOTES)) as knowledge:
        assert await knowledge.search("?? @ % /", 3) == []
