"""Sources that follow the answer: the passages the answer used, once its text is known.

The model is asked to cite the passages it uses by their number, `[1]` or `[1, 3]` (context.py's
rules). When the answer cites any, the sources shown are the cited passages, in the order first
cited; a marker past the passages sent (`[7]` when five were sent) or of a number not sent is
ignored (models invent them). When it cites none (small local models often do not), each sentence
of the answer is compared with every passage the turn had (those in the prompt and those a tool
looked up): a sentence with at least `MIN_SHARED_WORDS` content words is attributed to the passage
holding the largest share of them, when that share is at least `ATTRIBUTION_THRESHOLD`. Content
words are the lower-cased words and numbers left after dropping common words (query.py's
STOPWORDS). An answer that used no passage (a tool's result such as "15 * 7 + 23 = 128", a
greeting, "I do not know") shares too few words with any, and shows no source.

Only the prompt's passages carry their number (`n` in the source), since that is the number a
marker names; the widget turns `[n]` into a link to that source.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from .context import source_of
from .passages import Passage
from .query import STOPWORDS

ATTRIBUTION_THRESHOLD = 0.5
MIN_SHARED_WORDS = 3
SOURCES_SHOWN = 5

_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+")


def content_words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in STOPWORDS and (len(word) > 1 or word.isdigit())}


@functools.lru_cache(maxsize=4096)
def _passage_words(passage: Passage) -> frozenset[str]:
    """A passage's content words, once per passage (the same passages come with turn after turn:
    with the whole knowledge in the prompt, every one of them was read for every answer)."""
    return frozenset(content_words(f"{passage.title} {passage.section} {passage.text}"))


def cited_numbers(text: str, sent: int) -> list[int]:
    """The passage numbers the answer cites, in the order first cited, each within 1..`sent`."""
    numbers: list[int] = []
    for marker in _MARKER.finditer(text):
        for part in marker.group(1).split(","):
            number = int(part)
            if 1 <= number <= sent and number not in numbers:
                numbers.append(number)
    return numbers


def attributed(text: str, passages: Sequence[Passage], found: Sequence[Passage] = ()) -> list[Passage]:
    """The passages `text` used: the cited ones among `passages` (the prompt's, numbered from 1),
    else those its sentences draw on among `passages` and `found` (a tool's)."""
    cited = cited_numbers(text, len(passages))
    if cited:
        return [passages[number - 1] for number in cited]
    candidates = [*passages, *found]
    words = [_passage_words(p) for p in candidates]
    used: list[Passage] = []
    for sentence in _SENTENCE.split(text):
        said = content_words(sentence)
        if len(said) < MIN_SHARED_WORDS:
            continue
        shared, best = max(((len(said & held), index) for index, held in enumerate(words)), default=(0, -1))
        close = shared >= MIN_SHARED_WORDS and shared / len(said) >= ATTRIBUTION_THRESHOLD
        if close and candidates[best] not in used:
            used.append(candidates[best])
    return used


def attributed_sources(text: str, passages: Sequence[Passage], found: Sequence[Passage] = ()) -> list[dict[str, Any]]:
    """What the visitor is shown for an answer: the sources of the passages it used, each once (by
    source and section), at most SOURCES_SHOWN; the prompt's passages with their number `n`."""
    sources: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    numbers = {id(passage): number for number, passage in enumerate(passages, 1)}
    for passage in attributed(text, passages, found):
        if (passage.source, passage.section) in seen:
            continue
        seen.add((passage.source, passage.section))
        source = source_of(passage)
        if id(passage) in numbers:
            source["n"] = numbers[id(passage)]
        sources.append(source)
        if len(sources) == SOURCES_SHOWN:
            break
    return sources
