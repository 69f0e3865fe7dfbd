"""Resumable answers on one process (issue 16): reattach after a cut, the grace period, Stop.

A turn with a session runs detached from its response: a client cut mid-answer reattaches with
GET /stream/{turn_id}?after=<last seq> and gets exactly the rest; Stop (DELETE) ends it at once
and keeps the partial answer, marked stopped. Over a real socket, against the scripted upstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedUpstream
from ..knowledge import corpus
from ..sse import Events, parse_events, text_of

WORDS = [f"word{i} " for i in range(30)]


async def new_session(client: httpx2.AsyncClient) -> str:
    return str((await client.post("/session")).json()["session_id"])


async def cut_after(client: httpx2.AsyncClient, session_id: str, count: int) -> tuple[str, list[dict[str, Any]]]:
    """Start a turn, read `count` events, then drop the connection: (turn id, what was seen)."""
    async with client.stream("POST", "/stream", json={"prompt": "go on", "session_id": session_id}) as response:
        turn_id = response.headers["X-Turn-Id"]
        seen = await Events(response).take(count)
    return turn_id, seen


async def test_a_client_cut_mid_answer_reattaches_and_gets_exactly_the_rest(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=WORDS, delay=0.03))
    with live_server_for(upstream_settings()) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            session_id = await new_session(client)
            turn_id, seen = await cut_after(client, session_id, 4)
            async with client.stream("GET", f"/stream/{turn_id}", params={"after": seen[-1]["seq"]}) as response:
                assert response.headers["X-Turn-Id"] == turn_id
                rest = await Events(response).take()
            history = (await client.get(f"/session/{session_id}")).json()["messages"]
    assert text_of(seen) + text_of(rest) == "".join(WORDS)
    # seq 1 is the model round's start, which this format writes nothing for
    assert [event["seq"] for event in seen + rest] == list(range(2, len(seen) + len(rest) + 2))
    assert rest[-1]["type"] == "end"
    # the turn ran to its end though its first client left: stored whole; its answer names the turn,
    # so a client back from a reload sees that the history holds it (the user message keeps the
    # seed's shape)
    assert [(m["role"], m["content"], m.get("turn_id")) for m in history] == [
        ("user", "go on", None),
        ("assistant", "".join(WORDS), turn_id),
    ]


async def test_a_reload_reattaches_with_last_event_id_and_an_ended_turn_replays(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=WORDS[:10], delay=0.03))
    with live_server_for(upstream_settings()) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            session_id = await new_session(client)
            turn_id, seen = await cut_after(client, session_id, 2)
            headers = {"Last-Event-ID": str(seen[-1]["seq"])}
            async with client.stream("GET", f"/stream/{turn_id}", headers=headers) as response:
                rest = await Events(response).take()
            # the turn has ended; within the buffer's lifetime it can still be read whole
            async with client.stream(
                "GET", f"/stream/{turn_id}", params={"after": 0, "session_id": session_id}
            ) as response:
                replay = await Events(response).take()
    assert text_of(seen) + text_of(rest) == "".join(WORDS[:10])
    assert text_of(replay) == "".join(WORDS[:10])
    assert [event["type"] for event in replay][-1] == "end"


async def test_nobody_back_within_the_grace_period_cancels_the_upstream_call_and_stores_nothing(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=["partial", " more"], stall_after=1))
    with live_server_for(upstream_settings(resume_grace_seconds=0.3)) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            session_id = await new_session(client)
            turn_id, seen = await cut_after(client, session_id, 1)
            assert text_of(seen) == "partial"
            assert await asyncio.to_thread(upstream.disconnected.wait, 10)
            history = (await client.get(f"/session/{session_id}")).json()["messages"]
            # the ended turn still reads, and says why it ended
            async with client.stream("GET", f"/stream/{turn_id}", params={"after": seen[-1]["seq"]}) as response:
                rest = await Events(response).take()
    assert history == []
    assert [event["type"] for event in rest] == ["error"]
    assert upstream.completed_streams == 0


async def test_stop_ends_the_turn_at_once_and_keeps_the_partial_answer_marked_stopped(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=["Half an", " answer"], stall_after=1))
    with live_server_for(upstream_settings()) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            session_id = await new_session(client)
            body = {"prompt": "go on", "session_id": session_id}
            async with client.stream("POST", "/stream", json=body) as response:
                turn_id = response.headers["X-Turn-Id"]
                events = Events(response)
                first = await events.take(1)
                stopped = await client.delete(f"/stream/{turn_id}")
                rest = await events.take()
            assert await asyncio.to_thread(upstream.disconnected.wait, 10)
            again = await client.delete(f"/stream/{turn_id}")
            session = (await client.get(f"/session/{session_id}")).json()
    assert stopped.status_code == 200
    assert stopped.json() == {"turn_id": turn_id, "message": "The answer was stopped."}
    assert text_of(first) == "Half an"
    assert rest == [{"type": "end", "stopped": True, "seq": first[-1]["seq"] + 1, "timestamp": rest[0]["timestamp"]}]
    assert again.status_code == 404, "an ended turn cannot be stopped"
    assert [(m["role"], m["content"], m.get("stopped"), m.get("turn_id")) for m in session["messages"]] == [
        ("user", "go on", None, None),
        ("assistant", "Half an", True, turn_id),
    ]


async def test_stop_while_the_owners_pages_are_looked_up_is_a_stop_not_an_abandoned_answer(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any, tmp_path: Path
) -> None:
    """Before the model is asked, the question is embedded to rank the owner's passages: a Stop
    then ends the turn as stopped (not "nobody was reading it"), and the model is never asked."""
    question = "Which vector databases has she used?"
    settings = upstream_settings(
        knowledge_dir=corpus.write(tmp_path / "corpus"), knowledge_max_tokens=300, embeddings_model="scripted-embed"
    )
    upstream.hold_embedding_of = question
    try:
        with live_server_for(settings) as server:
            async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
                session_id = await new_session(client)
                body = {"prompt": question, "session_id": session_id}
                async with client.stream("POST", "/stream", json=body) as response:
                    turn_id = response.headers["X-Turn-Id"]
                    assert await asyncio.to_thread(upstream.embedding_held.wait, 10)
                    stopped = await client.delete(f"/stream/{turn_id}")
                    events = await Events(response).take()
                session = (await client.get(f"/session/{session_id}")).json()
    finally:
        upstream.release_embeddings.set()
    assert stopped.status_code == 200
    assert [(event["type"], event.get("stopped")) for event in events] == [("end", True)]
    assert upstream.requests == [], "the model was never asked"
    assert [(m["role"], m["content"], m.get("stopped")) for m in session["messages"]] == [
        ("user", question, None),
        ("assistant", "", True),
    ]


async def test_a_stopped_answer_counts_against_the_quota_and_frees_its_stream_slot(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=["Half"], stall_after=1), Reply(chunks=["Next"]))
    settings = upstream_settings(rate_limit="5/day", max_open_streams_per_visitor=1)
    with live_server_for(settings) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            session_id = await new_session(client)
            body = {"prompt": "go on", "session_id": session_id}
            async with client.stream("POST", "/stream", json=body) as response:
                await Events(response).take(1)
                assert (await client.delete(f"/stream/{response.headers['X-Turn-Id']}")).status_code == 200
            # the slot came back when the stopped turn ended: the next turn is admitted
            second = await client.post("/stream", json=body)
            info = (await client.get("/rate-limit-info")).json()
    assert second.status_code == 200
    assert int(second.headers["X-RateLimit-Remaining"]) == 3, "the stopped turn counted"
    assert info["remaining"] == 3


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_an_unknown_malformed_or_foreign_turn_id_is_404(
    method: str, upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=["a"], stall_after=1))
    with live_server_for(upstream_settings()) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            mine, other = await new_session(client), await new_session(client)
            async with client.stream("POST", "/stream", json={"prompt": "hi", "session_id": mine}) as response:
                turn_id = response.headers["X-Turn-Id"]
                await Events(response).take(1)
                answers = [
                    await client.request(method, "/stream/AAAAAAAAAAAAAAAAAAAAAA"),
                    await client.request(method, "/stream/not a turn!"),
                    await client.request(method, f"/stream/{turn_id}", params={"session_id": other}),
                    await client.request(method, f"/stream/{turn_id}", params={"session_id": "nope"}),
                ]
                # the right session still works
                if method == "DELETE":
                    ok = await client.delete(f"/stream/{turn_id}", params={"session_id": mine})
                    assert ok.status_code == 200
    for answer in answers:
        assert answer.status_code == 404
        assert answer.json()["error"] == "not_found"


async def test_a_resume_point_that_is_no_seq_is_422_not_a_server_error(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=["a"], stall_after=1))
    with live_server_for(upstream_settings()) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            session_id = await new_session(client)
            async with client.stream("POST", "/stream", json={"prompt": "hi", "session_id": session_id}) as response:
                turn_id = response.headers["X-Turn-Id"]
                await Events(response).take(1)
                answers = [
                    await client.get(f"/stream/{turn_id}", params={"after": 2**63}),
                    await client.get(f"/stream/{turn_id}", params={"after": -1}),
                    await client.get(f"/stream/{turn_id}", headers={"Last-Event-ID": b"\xb2"}),  # "²": isdigit()
                    await client.get(f"/stream/{turn_id}", headers={"Last-Event-ID": "99999999999"}),
                    await client.get(f"/stream/{turn_id}", headers={"Last-Event-ID": "-3"}),
                ]
                await client.delete(f"/stream/{turn_id}")
    assert [answer.status_code for answer in answers] == [422] * len(answers)
    assert all(answer.json()["error"] for answer in answers)


async def test_a_turn_without_a_session_is_not_resumable(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    with live_server_for(upstream_settings()) as server:
        async with httpx2.AsyncClient(base_url=server.url, timeout=10) as client:
            response = await client.post("/stream", json={"prompt": "hi"})
    assert "X-Turn-Id" not in response.headers
    # numbered all the same (seq 1 is the model round's start, which this format writes nothing for)
    assert [event["seq"] for event in parse_events(response.text)] == [2, 3, 4, 5]


async def test_a_live_answer_read_to_its_end_is_already_settled(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    """The response closes once the turn is settled, so the visitor's next request sees the refund."""
    upstream.script(Reply(status=500))
    async with client_for(upstream_settings(rate_limit="5/day")) as client:
        session_id = await new_session(client)
        failed = await client.post("/stream", json={"prompt": "hi", "session_id": session_id})
        quota = (await client.get("/rate-limit-info")).json()
    assert "X-Turn-Id" in failed.headers
    assert [event["type"] for event in parse_events(failed.text)] == ["error"]
    assert quota["current_requests"] == 0, "an upstream failure before any text is refunded"
