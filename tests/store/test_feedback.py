"""The feedback contract, on SQLite, Redis and Redis Cluster (the `stores` fixture)."""

from __future__ import annotations

from portfolio_backend.store import FEEDBACK_KEPT, Feedback, Stores


def _rating(turn: str, rating: str, at: int, comment: str | None = None) -> Feedback:
    return Feedback(turn, "session-a", "visitor-a", rating, at, comment, f"question {turn}", f"answer {turn}")


async def test_ratings_come_back_whole_newest_first_and_by_rating(stores: Stores) -> None:
    liked = _rating("turn-1", "up", 1)
    disliked = _rating("turn-2", "down", 2, "Wrong city: Alex lives in Lisbon.")
    await stores.feedback.rate(liked)
    await stores.feedback.rate(disliked)

    assert await stores.feedback.newest(10) == [disliked, liked]
    assert await stores.feedback.newest(10, "down") == [disliked]
    assert await stores.feedback.newest(10, "up") == [liked]
    assert await stores.feedback.newest(0) == []


async def test_a_second_rating_of_an_answer_replaces_the_first(stores: Stores) -> None:
    await stores.feedback.rate(_rating("turn-1", "down", 1, "wrong"))
    await stores.feedback.rate(_rating("turn-2", "up", 2))
    changed = _rating("turn-1", "up", 3)
    await stores.feedback.rate(changed)

    newest = await stores.feedback.newest(10)

    assert [item.turn_id for item in newest] == ["turn-1", "turn-2"]
    assert newest[0] == changed
    assert await stores.feedback.newest(10, "down") == []


async def test_the_store_keeps_the_newest_ratings_only(stores: Stores) -> None:
    for n in range(FEEDBACK_KEPT + 2):
        await stores.feedback.rate(_rating(f"turn-{n}", "down", n))

    newest = await stores.feedback.newest(FEEDBACK_KEPT + 10)

    assert len(newest) == FEEDBACK_KEPT
    assert newest[0].turn_id == f"turn-{FEEDBACK_KEPT + 1}"
    assert newest[-1].turn_id == "turn-2"
