"""Sources that follow the answer (knowledge/attribution.py): citations first, else the answer's own text."""

from __future__ import annotations

from portfolio_backend.knowledge.attribution import attributed_sources, cited_numbers
from portfolio_backend.knowledge.passages import Passage

RATES = Passage(
    "services.md",
    False,
    "Working with Alex",
    ("Availability and rates",),
    "Day rates start at 650 EUR; fixed-price quotes are possible.",
)
CITY = Passage(
    "about.md", False, "About Alex Doe", (), "Alex Doe is a freelance software engineer based in Lisbon, Portugal."
)
TALKS = Passage(
    "https://alex.example/talks", True, "Talks", (), "Alex writes a newsletter called Slow Python, monthly since 2023."
)
PASSAGES = [RATES, CITY]


def files(sources: list[dict[str, object]]) -> list[object]:
    return [source.get("file") or source.get("url") for source in sources]


def test_cited_passages_are_the_sources_in_the_order_first_cited_with_their_number() -> None:
    sources = attributed_sources("Alex lives in Lisbon [2] and charges 650 EUR [1][2].", PASSAGES)
    assert files(sources) == ["about.md", "services.md"]
    assert [source["n"] for source in sources] == [2, 1]


def test_markers_past_the_passages_sent_are_ignored() -> None:
    assert cited_numbers("See [7] and [0] and [2, 9].", 2) == [2]
    assert cited_numbers("Split [ 1 ] and a list [1,2].", 2) == [1, 2]


def test_an_answer_that_cites_nothing_is_attributed_from_its_own_text() -> None:
    quoted = "From the talks page: Alex writes a newsletter called Slow Python, monthly."
    sources = attributed_sources(quoted, PASSAGES, found=[TALKS])
    assert files(sources) == ["https://alex.example/talks"]
    assert "n" not in sources[0]  # a tool's passage: no number a marker could name


def test_each_sentence_finds_its_own_passage() -> None:
    answer = "Alex is a software engineer based in Lisbon. Day rates start at 650 EUR, quotes possible."
    assert files(attributed_sources(answer, PASSAGES)) == ["about.md", "services.md"]


def test_an_answer_that_used_no_passage_shows_no_source() -> None:
    for answer in ("15 * 7 + 23 = 128", "Hello! How can I help you today?", "I do not know, sorry.", ""):
        assert attributed_sources(answer, PASSAGES, found=[TALKS]) == [], answer
