"""Owner answers: the right answer to a question, written by the site owner in the console.

They are knowledge that outranks a page (knowledge/owner_answers.py matches a turn's prompt against
their questions). Every write moves the store's `version`, so a replica that keeps the answers in
memory learns the version in each turn's admission batch (no round trip of its own) and reads
them again when it moved.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import asdict, dataclass

from ..base import Step, StepStore

# How many owner answers a store keeps: each turn compares its prompt with every one (in memory),
# and an owner writes them by hand; 500 is far more than a portfolio needs and keeps that cheap.
ANSWERS_KEPT = 500


@dataclass(slots=True)
class OwnerAnswer:
    answer_id: str
    question: str
    answer: str
    created_at: int
    updated_at: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> OwnerAnswer:
        return cls(**json.loads(text))


class OwnerAnswerStore(StepStore):
    """The owner's answers, at most `ANSWERS_KEPT`. Times are ms since the epoch."""

    @abstractmethod
    async def add(self, answer: OwnerAnswer) -> bool:
        """Keep a new answer; False (nothing kept) when the store already holds `ANSWERS_KEPT`."""

    @abstractmethod
    async def update(self, answer_id: str, question: str, answer: str, now: int) -> OwnerAnswer | None:
        """Replace an answer's question and text, `updated_at` = `now`; None if there is no such answer."""

    @abstractmethod
    async def delete(self, answer_id: str) -> bool:
        """Delete an answer; False if there was none."""

    @abstractmethod
    async def all(self) -> tuple[int, list[OwnerAnswer]]:
        """The version and every answer, newest (by `updated_at`) first, read together."""

    @abstractmethod
    def version_step(self) -> Step[int]:
        """A number that changes with every add, update and delete (0 before any): one small read,
        made in a turn's admission batch."""

    async def version(self) -> int:
        """`version_step` on its own."""
        return await self.run_step(self.version_step())


__all__ = ["ANSWERS_KEPT", "OwnerAnswer", "OwnerAnswerStore"]
