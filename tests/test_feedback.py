"""Finding the answer a visitor rates (feedback.py) on every store, also once its turn buffer is gone:
then the visitor's own sessions are searched."""

from __future__ import annotations

from portfolio_backend.feedback import find_answer, rate_answer
from portfolio_backend.store import Message, Stores

NOW = 1_765_000_000_000
TURN = "q8mX0v2kR3tH7yPaLc1NwZ"


async def _session_with_answer(stores: Stores, session_id: str, visitor: str) -> None:
    await stores.sessions.create(session_id, visitor, NOW, 3600)
    messages = [
        Message("user", "Where does Alex live?", NOW),
        Message("assistant", "", NOW, tool_calls=[{"id": "c1", "type": "function", "function": {"name": "x"}}]),
        Message("tool", "Lisbon", NOW, tool_call_id="c1", name="x"),
        Message("assistant", "In Lisbon.", NOW, turn_id=TURN),
    ]
    assert await stores.sessions.append_turn(session_id, messages, NOW, 3600, 20)


async def test_an_answer_whose_buffer_expired_is_found_in_the_visitors_sessions(stores: Stores) -> None:
    await _session_with_answer(stores, "3f1c8f6e-1d7a-4c8a-9a55-7f4f6c1e2b10", "ada")
    await stores.sessions.create("9a0c8f6e-1d7a-4c8a-9a55-7f4f6c1e2b11", "ada", NOW + 1, 3600)  # a newer one, empty

    found = await find_answer(stores, "ada", TURN, NOW + 2)
    by_eve = await find_answer(stores, "eve", TURN, NOW + 2)

    assert found is not None
    assert (found.session_id, found.question, found.answer) == (
        "3f1c8f6e-1d7a-4c8a-9a55-7f4f6c1e2b10",
        "Where does Alex live?",
        "In Lisbon.",
    )
    assert by_eve is None


async def test_a_rating_of_no_answer_stores_nothing(stores: Stores) -> None:
    await _session_with_answer(stores, "3f1c8f6e-1d7a-4c8a-9a55-7f4f6c1e2b10", "ada")

    assert await rate_answer(stores, "ada", "AAAAAAAAAAAAAAAAAAAAAA", "down", None, NOW) is None
    assert await rate_answer(stores, "eve", TURN, "down", "spam", NOW) is None
    assert await stores.feedback.newest(10) == []
