"""Owner answers as knowledge: the owner's own answer to a question outranks any page for it.

Matching is word overlap, measured as the Jaccard index of the content words of the visitor's
prompt and of the owner's question: |shared| / |either|, where content words are the lower-cased
words left after dropping common words (knowledge/query.py's STOPWORDS) and a possessive or
plural "s". "What are your rates?" and "What are Alex's rates?" share {rate} of {rate, alex}: 0.5.

- `MATCH_THRESHOLD` (0.5): the best answer at or above it is given to the model first, as a
  passage titled as the owner's own answer, and shown to the visitor as a source with that title.
- `DIRECT_THRESHOLD` (0.8): with OWNER_ANSWERS_DIRECT=true the turn is answered with the owner's
  text itself, without calling the model (it counts as a turn for the quota and spends no tokens).

Every replica sees an answer from the next turn: the answers are kept in memory with the store's
version; each turn learns the version in its admission batch (turns/lifecycle.py: no round trip of
its own) and the answers are read again when it moved. A store that cannot
be read leaves the turn without owner answers (logged).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncGenerator, Awaitable
from dataclasses import dataclass
from typing import Any

from ..llm import Completion, TextDelta, Usage
from ..llm.base import Delta
from ..store import OwnerAnswer, OwnerAnswerStore, StoreError
from .library import Selection
from .passages import Passage
from .query import STOPWORDS

log = logging.getLogger(__name__)

MATCH_THRESHOLD = 0.5
DIRECT_THRESHOLD = 0.8
# How visitors see the source, and the model the passage: the owner's words, not a page of theirs
OWNER_ANSWER_TITLE = "The owner's own answer"
# A passage's `source`: what the widget and the AI SDK name it by (a file-like name, never a URL)
SOURCE_PREFIX = "owner-answers/"

_WORD = re.compile(r"\w+")
_POSSESSIVE = re.compile(r"['’]s\b")


def content_words(text: str) -> frozenset[str]:
    """The words that carry a question's meaning, lightly normalised so that forms meet."""
    words = set()
    for word in _WORD.findall(_POSSESSIVE.sub("", text.lower())):
        if word in STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return frozenset(words)


def overlap(asked: frozenset[str], question: frozenset[str]) -> float:
    """The Jaccard index of two word sets: 0 when either is empty."""
    if not asked or not question:
        return 0.0
    return len(asked & question) / len(asked | question)


@dataclass(frozen=True, slots=True)
class OwnerMatch:
    """The owner answer that best matches a prompt, and how well (`score`, the Jaccard index)."""

    answer: OwnerAnswer
    score: float

    @property
    def passage(self) -> Passage:
        return Passage(
            source=SOURCE_PREFIX + self.answer.answer_id,
            is_url=False,
            title=OWNER_ANSWER_TITLE,
            headings=(self.answer.question,),
            text=self.answer.answer,
        )


@dataclass(frozen=True, slots=True)
class Consulted:
    """What a turn takes from the owner answers: its knowledge with the match first, and the model
    to ask (`direct`: the owner's answer itself, or None for the configured model)."""

    selection: Selection | None
    direct: DirectAnswer | None = None


class DirectAnswer:
    """An `LLMProvider` that answers with the owner's text: no model is called, no token spent."""

    provider = "owner-answer"

    def __init__(self, model: str, text: str) -> None:
        self.model = model  # the configured model's name: the turn is reported under it, at no cost
        self.text = text

    async def stream(
        self,
        messages: list[dict[str, Any]],  # noqa: ARG002 (the owner already answered)
        tools: list[dict[str, Any]],  # noqa: ARG002
    ) -> AsyncGenerator[Delta, None]:
        yield TextDelta(self.text)
        yield Completion(usage=Usage())

    async def close(self) -> None:
        return None


class OwnerAnswers:
    """The owner answers a process matches turns against, kept in step with the shared store."""

    def __init__(self, store: OwnerAnswerStore, *, direct: bool) -> None:
        self.store = store
        self.direct = direct
        self._version = -1  # no read yet
        self._known: list[tuple[OwnerAnswer, frozenset[str]]] = []

    async def best(self, prompt: str, version: int | None = None) -> OwnerMatch | None:
        """The answer whose question best matches `prompt`, at or above MATCH_THRESHOLD. `version`:
        the store's, when the caller has read it (else it is read here)."""
        known = await self._current(version)
        asked = content_words(prompt)
        best: OwnerMatch | None = None
        for answer, words in known:
            score = overlap(asked, words)
            if score >= MATCH_THRESHOLD and (best is None or score > best.score):
                best = OwnerMatch(answer, score)
        return best

    async def consult(
        self, prompt: str, pages: Awaitable[Selection | None], model: str, version: int | None = None
    ) -> Consulted:
        """The turn's knowledge (`pages`, awaited alongside any read of the answers) with the best
        owner answer first; a direct answer when allowed and close. `version`: as in `best`."""
        selection, match = await asyncio.gather(pages, self._best_or_none(prompt, version))
        if match is None:
            return Consulted(selection)
        first = match.passage
        if selection is None:
            selection = Selection([first], whole=False)
        else:
            selection = Selection([first, *selection.passages], selection.whole)
        if self.direct and match.score >= DIRECT_THRESHOLD:
            return Consulted(selection, DirectAnswer(model, match.answer.answer))
        return Consulted(selection)

    async def _best_or_none(self, prompt: str, version: int | None) -> OwnerMatch | None:
        try:
            return await self.best(prompt, version)
        except StoreError as exc:
            log.warning("owner answers not used for this turn: %s", exc)
            return None

    async def _current(self, version: int | None) -> list[tuple[OwnerAnswer, frozenset[str]]]:
        if version is None:
            version = await self.store.version()
        if version != self._version:
            version, answers = await self.store.all()
            self._known = [(answer, content_words(answer.question)) for answer in answers]
            self._version = version
        return self._known
