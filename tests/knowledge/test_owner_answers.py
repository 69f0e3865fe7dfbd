"""The documented measure behind owner answers: Jaccard overlap of content words, and its thresholds."""

from __future__ import annotations

import pytest

from portfolio_backend.knowledge.owner_answers import DIRECT_THRESHOLD, MATCH_THRESHOLD, content_words, overlap


def score(prompt: str, question: str) -> float:
    return overlap(content_words(prompt), content_words(question))


def test_content_words_drop_common_words_possessives_and_plurals() -> None:
    assert content_words("What are Alex's rates?") == {"alex", "rate"}
    assert content_words("What are your rates?") == {"rate"}
    assert content_words("") == frozenset()


@pytest.mark.parametrize(
    ("prompt", "question", "expected"),
    [
        ("What are Alex's rates?", "what are alex's rates", 1.0),  # the same question
        ("what are your rates?", "What are Alex's rates?", 0.5),  # the documented example
        ("Where does Alex live?", "What are Alex's rates?", 1 / 3),  # {alex} of {alex, live, rate}
        ("Hello!", "What are Alex's rates?", 0.0),  # nothing but common words
    ],
)
def test_the_overlap_is_shared_words_over_all_words(prompt: str, question: str, expected: float) -> None:
    assert score(prompt, question) == pytest.approx(expected)


def test_a_close_question_is_direct_and_a_related_one_only_given_to_the_model() -> None:
    assert score("What are Alex's rates?", "Alex's rates?") >= DIRECT_THRESHOLD
    related = score("what are your rates?", "What are Alex's rates?")
    assert MATCH_THRESHOLD <= related < DIRECT_THRESHOLD
    assert score("Where does Alex live?", "What are Alex's rates?") < MATCH_THRESHOLD
