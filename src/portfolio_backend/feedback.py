"""Visitor feedback: find the answer a visitor rates, by its turn id, and keep their rating.

A turn id names an answer in its session's history (`Message.turn_id`, on the message that ends the
turn). Which session: the turn's buffer (store/turn_buffers/) says while it lives (RESUME_BUFFER_TTL_SECONDS
after the turn's end); after that, the rating visitor's own live sessions are searched, newest first
(one read for the list, one per session, at most `SESSIONS_SEARCHED`). Either way the session must be
the visitor's: another visitor's answer is as unknown as one that never existed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .store import Feedback, Message, SessionRecord, Stores

# Sessions of a visitor searched for an answer whose turn buffer has expired: a visitor makes at
# most SESSION_CREATE_LIMIT (30 an hour by default) and rates answers in the ones they are using.
SESSIONS_SEARCHED = 20
# A seq no turn reaches: reading after it gives a buffer's session without its events
_NO_EVENTS = 10**12


@dataclass(frozen=True, slots=True)
class RatedAnswer:
    """The answer a turn id names, found in one of the visitor's sessions."""

    session_id: str
    question: str
    answer: str


async def find_answer(stores: Stores, visitor: str, turn_id: str, now: int) -> RatedAnswer | None:
    """The visitor's answer named `turn_id`, or None (unknown, expired, or another visitor's)."""
    page = await stores.turns.read(turn_id, _NO_EVENTS, 1, now)
    if page is not None:
        record = await stores.sessions.load(page.session_id, now)
        return _answer_in(record, visitor, turn_id)
    for meta in (await stores.sessions.list_for(visitor, now))[:SESSIONS_SEARCHED]:
        found = _answer_in(await stores.sessions.load(meta.session_id, now), visitor, turn_id)
        if found is not None:
            return found
    return None


def _answer_in(record: SessionRecord | None, visitor: str, turn_id: str) -> RatedAnswer | None:
    if record is None or record.meta.visitor != visitor:
        return None
    messages = record.messages
    for position, message in enumerate(messages):
        if message.role == "assistant" and message.turn_id == turn_id:
            return RatedAnswer(record.meta.session_id, _question_before(messages[:position]), message.content)
    return None


def _question_before(messages: list[Message]) -> str:
    """The visitor's message the answer replies to: the last user message before it."""
    return next((message.content for message in reversed(messages) if message.role == "user"), "")


async def rate_answer(
    stores: Stores, visitor: str, turn_id: str, rating: str, comment: str | None, now: int
) -> Feedback | None:
    """Keep the visitor's rating of their answer `turn_id` (replacing an earlier one); None if no
    such answer is theirs."""
    answer = await find_answer(stores, visitor, turn_id, now)
    if answer is None:
        return None
    feedback = Feedback(turn_id, answer.session_id, visitor, rating, now, comment, answer.question, answer.answer)
    await stores.feedback.rate(feedback)
    return feedback
