"""POST /feedback: a visitor rates their own answers; the owner reads the ratings (on each store)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2

from portfolio_backend.settings import Settings

TOKEN = "owner-token-0123456789"
OWNER = {"Authorization": f"Bearer {TOKEN}"}
UNKNOWN_TURN = "AAAAAAAAAAAAAAAAAAAAAA"


async def answered(client: httpx2.AsyncClient, prompt: str = "What is 6 * 7?") -> tuple[str, str]:
    """A finished answer in a new session: (session id, turn id)."""
    session_id = (await client.post("/session")).json()["session_id"]
    response = await client.post("/stream", json={"prompt": prompt, "session_id": session_id})
    assert response.status_code == 200
    return session_id, response.headers["x-turn-id"]


async def ratings(client: httpx2.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/admin/api/feedback", params=params, headers=OWNER)
    assert response.status_code == 200
    feedback: list[dict[str, Any]] = response.json()["feedback"]
    return feedback


async def test_a_rating_with_a_comment_reaches_the_owner_with_its_question_and_answer(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(admin_token=TOKEN)) as client:
        session_id, turn_id = await answered(client)
        rated = await client.post("/feedback", json={"turn_id": turn_id, "rating": "down", "comment": " Off by one. "})
        listed = await ratings(client, rating="down")
        liked = await ratings(client, rating="up")
        metrics = (await client.get("/metrics")).text
    assert rated.status_code == 204
    assert rated.content == b""
    assert len(listed) == 1
    item = listed[0]
    assert (item["turn_id"], item["session_id"], item["rating"], item["comment"]) == (
        turn_id,
        session_id,
        "down",
        "Off by one.",
    )
    assert item["question"] == "What is 6 * 7?"
    assert "42" in item["answer"]
    assert liked == []
    assert 'portfolio_feedback_total{rating="down"} 1.0' in metrics


async def test_a_second_rating_of_the_same_answer_replaces_the_first(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(admin_token=TOKEN)) as client:
        _, turn_id = await answered(client)
        first = await client.post("/feedback", json={"turn_id": turn_id, "rating": "down", "comment": "wrong"})
        second = await client.post("/feedback", json={"message_id": turn_id, "rating": "up"})
        listed = await ratings(client)
    assert (first.status_code, second.status_code) == (204, 204)
    assert [(item["turn_id"], item["rating"], item["comment"]) for item in listed] == [(turn_id, "up", None)]


async def test_an_unknown_answer_or_another_visitors_is_not_found(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    settings = make_settings(admin_token=TOKEN)
    async with client_for(settings, ip="203.0.113.7") as ada, client_for(settings, ip="198.51.100.9") as eve:
        _, turn_id = await answered(ada)
        by_eve = await eve.post("/feedback", json={"turn_id": turn_id, "rating": "down", "comment": "spam"})
        unknown = await ada.post("/feedback", json={"turn_id": UNKNOWN_TURN, "rating": "up"})
        listed = await ratings(ada)
    assert by_eve.status_code == 404
    assert by_eve.json()["error"] == "not_found"
    assert unknown.status_code == 404
    assert listed == []


async def test_bad_ratings_are_422_and_store_nothing(make_settings: Callable[..., Settings], client_for: Any) -> None:
    async with client_for(make_settings(admin_token=TOKEN)) as client:
        _, turn_id = await answered(client)
        bad = [
            {"turn_id": turn_id, "rating": "meh"},
            {"turn_id": turn_id},
            {"rating": "up"},
            {"turn_id": turn_id, "rating": "up", "comment": "x" * 1001},
            {"turn_id": "../../etc/passwd", "rating": "up"},
            {"turn_id": turn_id, "message_id": UNKNOWN_TURN, "rating": "up"},
            {"turn_id": 7, "rating": "up"},
        ]
        answers = [await client.post("/feedback", json=body) for body in bad]
        longest = await client.post("/feedback", json={"turn_id": turn_id, "rating": "up", "comment": "x" * 1000})
    assert [answer.status_code for answer in answers] == [422] * len(bad)
    assert all(answer.json()["error"] for answer in answers)
    assert longest.status_code == 204


async def test_ratings_are_bounded_per_visitor_with_the_quota_headers(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(feedback_limit="2/hour")) as client:
        _, turn_id = await answered(client)
        answers = [await client.post("/feedback", json={"turn_id": turn_id, "rating": "up"}) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [204, 204, 429]
    refused = answers[2]
    assert refused.json()["error"] == "rate_limited"
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["x-ratelimit-limit"] == "2"
    assert refused.headers["x-ratelimit-remaining"] == "0"
