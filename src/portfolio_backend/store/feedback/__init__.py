"""Feedback: a visitor's 👍/👎 (and optional comment) on one answer, kept for the site owner.

An answer is named by its turn id (the id the stream's `X-Turn-Id` and the AI SDK's `start` part
carry, stored on the answer in the session's history). Only the visitor whose session holds the
answer may rate it (api/feedback.py checks that); a second rating of the same answer replaces the
first, so the store keys feedback by turn id alone.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import asdict, dataclass

from ..base import StoreContract

# How many rated answers a store keeps: the owner reads the newest in the console, and the cap
# stops a flood of ratings (each also bounded per visitor by FEEDBACK_LIMIT) from growing it.
FEEDBACK_KEPT = 1000


@dataclass(slots=True)
class Feedback:
    """One visitor's rating of one answer, with what the owner needs to read it later: the
    question and the answer as they were (the session, and with it the conversation, expires)."""

    turn_id: str
    session_id: str
    visitor: str
    rating: str  # "up" or "down"
    created_at: int  # when this rating was given (a replaced one's time is dropped)
    comment: str | None = None
    question: str = ""
    answer: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Feedback:
        return cls(**json.loads(text))


class FeedbackStore(StoreContract):
    """Ratings of answers, one per answer, capped at `FEEDBACK_KEPT`. Times are ms since the epoch."""

    @abstractmethod
    async def rate(self, feedback: Feedback) -> None:
        """Keep `feedback`, replacing any earlier rating of the same turn (which then counts as
        new: it moves to the front). Past `FEEDBACK_KEPT` the oldest ratings are dropped."""

    @abstractmethod
    async def newest(self, count: int, rating: str | None = None) -> list[Feedback]:
        """The newest `count` ratings, newest first; only `rating` ("up" or "down") when given."""


__all__ = ["FEEDBACK_KEPT", "Feedback", "FeedbackStore"]
