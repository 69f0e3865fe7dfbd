"""The owner's answers: written in the console's API, used by the assistant from the next turn on every
replica, shown as the owner's own answer, and (OWNER_ANSWERS_DIRECT) answered without the model."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import httpx2

from portfolio_backend.knowledge.owner_answers import OWNER_ANSWER_TITLE
from portfolio_backend.settings import Settings

from ...fixtures.upstream import Reply, ScriptedUpstream
from ...sse import parse_events, text_of

TOKEN = "owner-token-0123456789"
OWNER = {"Authorization": f"Bearer {TOKEN}"}
RATES = {"question": "What are Alex's rates?", "answer": "Alex charges 700 EUR a day since March."}


async def ask(client: httpx2.AsyncClient, prompt: str) -> list[dict[str, Any]]:
    response = await client.post("/stream", json={"prompt": prompt})
    assert response.status_code == 200
    return parse_events(response.text)


def sources_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [source for event in events if event["type"] == "sources" for source in event["sources"]]


def system_prompt(upstream: ScriptedUpstream, n: int) -> str:
    return str(upstream.requests[n]["messages"][0]["content"])


async def test_answers_are_listed_written_edited_and_deleted(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(admin_token=TOKEN)) as client:
        created = await client.post("/admin/api/answers", json=RATES, headers=OWNER)
        answer_id = created.json()["answer_id"]
        edited = await client.put(
            f"/admin/api/answers/{answer_id}",
            json={"question": " What is Alex's day rate? ", "answer": "750 EUR."},
            headers=OWNER,
        )
        listed = (await client.get("/admin/api/answers", headers=OWNER)).json()["answers"]
        deleted = await client.delete(f"/admin/api/answers/{answer_id}", headers=OWNER)
        again = await client.delete(f"/admin/api/answers/{answer_id}", headers=OWNER)
        unknown = await client.put(f"/admin/api/answers/{'0' * 32}", json=RATES, headers=OWNER)
        garbage = await client.put("/admin/api/answers/..%2F..", json=RATES, headers=OWNER)
        empty = (await client.get("/admin/api/answers", headers=OWNER)).json()["answers"]
        anonymous = await client.post("/admin/api/answers", json=RATES)
    assert created.status_code == 201
    assert created.json()["question"] == RATES["question"]
    assert edited.status_code == 200
    assert [(item["answer_id"], item["question"], item["answer"]) for item in listed] == [
        (answer_id, "What is Alex's day rate?", "750 EUR.")
    ]
    assert (deleted.status_code, again.status_code, unknown.status_code, garbage.status_code) == (204, 404, 404, 404)
    assert empty == []
    assert anonymous.status_code == 401


async def test_bad_answers_are_422(make_settings: Callable[..., Settings], client_for: Any) -> None:
    async with client_for(make_settings(admin_token=TOKEN)) as client:
        bad = [
            {"question": "   ", "answer": "x"},
            {"question": "q"},
            {"question": "q", "answer": "x" * 4001},
            {"question": "q" * 501, "answer": "x"},
            {"question": ["q"], "answer": "x"},
        ]
        answers = [await client.post("/admin/api/answers", json=body, headers=OWNER) for body in bad]
    assert [answer.status_code for answer in answers] == [422] * len(bad)


async def test_an_owner_answer_outranks_the_pages_and_is_shown_as_the_owners_own(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(Reply(chunks=["It is 700 EUR a day."]), Reply(chunks=["Lisbon."]))
    async with client_for(upstream_settings(admin_token=TOKEN)) as client:
        await client.post("/admin/api/answers", json=RATES, headers=OWNER)
        matched = await ask(client, "What are your rates?")
        unrelated = await ask(client, "Which city does Alex live in?")
    passages = system_prompt(upstream, 0).split("<passage ")[1:]
    assert passages[0].startswith('n="1" source="owner-answers/')
    assert f'title="{html.escape(OWNER_ANSWER_TITLE)}"' in passages[0]
    assert RATES["answer"] in passages[0]
    assert len(passages) > 1, "the pages still follow it"
    assert sources_of(matched)[0]["title"] == f"{OWNER_ANSWER_TITLE} — {RATES['question']}"
    assert RATES["answer"] not in system_prompt(upstream, 1)
    assert all(OWNER_ANSWER_TITLE not in source["title"] for source in sources_of(unrelated))


async def test_an_answer_saved_on_one_replica_is_used_by_another_on_its_next_turn(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    settings = upstream_settings(admin_token=TOKEN)
    async with client_for(settings) as first, client_for(settings) as second:
        await ask(second, "What are Alex's rates?")  # the second replica has read the (empty) answers
        created = (await first.post("/admin/api/answers", json=RATES, headers=OWNER)).json()
        await ask(second, "What are Alex's rates?")
        await first.put(
            f"/admin/api/answers/{created['answer_id']}",
            json={**RATES, "answer": "From May: 800 EUR a day."},
            headers=OWNER,
        )
        await ask(second, "What are Alex's rates?")
    assert RATES["answer"] not in system_prompt(upstream, 0)
    assert RATES["answer"] in system_prompt(upstream, 1)
    assert "From May: 800 EUR a day." in system_prompt(upstream, 2)
    assert RATES["answer"] not in system_prompt(upstream, 2)


async def test_a_close_match_is_answered_directly_without_the_model_and_counts_as_a_turn(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(Reply(chunks=["From the model."]))
    async with client_for(upstream_settings(admin_token=TOKEN, owner_answers_direct=True)) as client:
        await client.post("/admin/api/answers", json=RATES, headers=OWNER)
        direct = await ask(client, "what are alex's rates")
        calls_after_direct = len(upstream.requests)
        quota = (await client.get("/rate-limit-info")).json()
        today = (await client.get("/admin/api/usage", headers=OWNER)).json()["days"][-1]
        related = await ask(client, "What are your rates?")  # 0.5: given to the model, not direct
    assert text_of(direct) == RATES["answer"]
    assert sources_of(direct)[0]["title"].startswith(OWNER_ANSWER_TITLE)
    assert calls_after_direct == 0
    assert quota["current_requests"] == 1
    assert (today["tokens"], today["cost_usd"]) == (0, 0)  # the owner's usage shows no spend
    assert text_of(related) == "From the model."
    assert len(upstream.requests) == 1
