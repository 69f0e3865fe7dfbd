"""Resumable answers across two processes on one store (issue 16): reattach elsewhere, Stop elsewhere,
for POST /stream's turns (by turn id) and POST /api/chat's (by chat id, as the AI SDK resumes).

Process A runs the turn; process B knows it only through the store's turn buffer. Both are
`python main.py` against the scripted upstream, on one SQLite file, one redis-server, or one
Redis Cluster.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from ..fixtures.service import ServiceProcess, start_all
from ..fixtures.shared_store import KINDS, SharedStore, clients_of, services_on, shared_store
from ..fixtures.upstream import Reply, ScriptedToolCall, ScriptedUpstream
from ..sse import Events, UIChunks, text_of, ui_text_of

pytestmark = pytest.mark.slow

WORDS = [f"w{i} " for i in range(25)]
GRACE_SECONDS = 2


def new_chat(text: str) -> dict[str, Any]:
    """The body DefaultChatTransport sends for the first message of a new chat, set up to resume
    (`resume: true`, which prepareSendMessagesRequest adds: docs/ai-sdk.md)."""
    message = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": text}]}
    return {"id": f"chat-{uuid.uuid4().hex}", "messages": [message], "trigger": "submit-message", "resume": True}


@pytest.fixture(scope="module", params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedStore]:
    yield from shared_store(request.param, request, tmp_path_factory)


def resume_env(upstream: ScriptedUpstream, workdir: Path) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": upstream.base_url,
        "OPENAI_MAX_RETRIES": "0",
        "GLOBAL_DAILY_REQUESTS": "0",
        "RATE_LIMIT": "1000/day",
        "SESSION_CREATE_LIMIT": "1000/hour",
        "RESUME_GRACE_SECONDS": str(GRACE_SECONDS),
        "KNOWLEDGE_DIR": str(workdir / "no-knowledge"),
    }


@pytest.fixture(scope="module")
def services(
    store: SharedStore, upstream_server: ScriptedUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ServiceProcess]]:
    workdir = Path(tmp_path_factory.mktemp("resume-services"))
    yield from services_on(store, workdir, ("resume-a", "resume-b"), resume_env(upstream_server, workdir))


@pytest.fixture
async def clients(
    services: list[ServiceProcess], upstream: ScriptedUpstream
) -> AsyncIterator[list[httpx2.AsyncClient]]:
    async with clients_of(services) as clients:
        yield clients


async def test_a_client_cut_on_one_process_gets_exactly_the_rest_from_the_other(
    clients: list[httpx2.AsyncClient], upstream: ScriptedUpstream
) -> None:
    a, b = clients
    # the answer takes longer than the grace period: B's reads keep A's turn alive
    upstream.script(Reply(chunks=WORDS, delay=0.15))
    session_id = (await a.post("/session")).json()["session_id"]
    async with a.stream("POST", "/stream", json={"prompt": "go on", "session_id": session_id}) as response:
        turn_id = response.headers["X-Turn-Id"]
        seen = await Events(response).take(3)
    async with b.stream("GET", f"/stream/{turn_id}", params={"after": seen[-1]["seq"]}) as response:
        rest = await Events(response).take()
    assert text_of(seen) + text_of(rest) == "".join(WORDS)
    # seq 1 is the model round's start, which this format writes nothing for
    assert [event["seq"] for event in seen + rest] == list(range(2, len(seen) + len(rest) + 2))
    assert rest[-1]["type"] == "end"
    history = (await b.get(f"/session/{session_id}")).json()["messages"]
    assert [(m["role"], m["content"]) for m in history] == [("user", "go on"), ("assistant", "".join(WORDS))]
    # once ended, either process replays it whole
    async with a.stream("GET", f"/stream/{turn_id}", params={"session_id": session_id}) as response:
        replay = await Events(response).take()
    assert text_of(replay) == "".join(WORDS)


async def test_stop_on_the_other_process_ends_the_turn_and_keeps_the_partial_answer(
    clients: list[httpx2.AsyncClient], upstream: ScriptedUpstream
) -> None:
    a, b = clients
    upstream.script(Reply(chunks=["Half an", " answer"], stall_after=1))
    session_id = (await a.post("/session")).json()["session_id"]
    async with a.stream("POST", "/stream", json={"prompt": "go on", "session_id": session_id}) as response:
        turn_id = response.headers["X-Turn-Id"]
        events = Events(response)
        first = await events.take(1)
        stopped = await b.delete(f"/stream/{turn_id}", params={"session_id": session_id})
        rest = await events.take()
    assert await asyncio.to_thread(upstream.disconnected.wait, 10), "the upstream call was not closed"
    assert stopped.status_code == 200, stopped.text
    assert stopped.json() == {"turn_id": turn_id, "message": "The answer was stopped."}
    assert text_of(first) == "Half an"
    assert [(event["type"], event.get("stopped")) for event in rest] == [("end", True)]
    messages = (await b.get(f"/session/{session_id}")).json()["messages"]
    assert [(m["role"], m["content"], m.get("stopped")) for m in messages] == [
        ("user", "go on", None),
        ("assistant", "Half an", True),
    ]
    assert (await b.delete(f"/stream/{turn_id}")).status_code == 404, "an ended turn cannot be stopped"


async def test_a_follower_is_told_when_the_process_running_the_turn_is_killed(
    store: SharedStore, services: list[ServiceProcess], upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    """The process running the turn dies (SIGKILL, a crashed host): the visitor reading it on the
    other process is told the answer is gone within seconds, not after the buffer's TTL."""
    if "REDIS_CLUSTER" in store.env:
        pytest.skip("run on Redis: a cluster keeps the same expiry, which tests/store/test_turn_buffers.py reads there")
    doomed = ServiceProcess("resume-doomed", tmp_path, {**store.env, **resume_env(upstream, tmp_path)})
    start_all([doomed])
    upstream.script(Reply(chunks=["Half an", " answer"], stall_after=1))
    try:
        async with (
            httpx2.AsyncClient(base_url=doomed.url, timeout=30) as a,
            httpx2.AsyncClient(base_url=services[1].url, timeout=30) as b,
        ):
            session_id = (await a.post("/session")).json()["session_id"]
            async with a.stream("POST", "/stream", json={"prompt": "go on", "session_id": session_id}) as response:
                turn_id = response.headers["X-Turn-Id"]
                seen = await Events(response).take(1)
                async with b.stream("GET", f"/stream/{turn_id}", params={"after": seen[-1]["seq"]}) as following:
                    assert following.status_code == 200
                    os.kill(doomed.pid, signal.SIGKILL)
                    rest = await Events(following).take()
            afterwards = await b.get(f"/stream/{turn_id}")
    finally:
        doomed.stop()
    assert text_of(seen) == "Half an"
    assert [(event["type"], event.get("error")) for event in rest] == [
        ("error", "This answer is no longer available. Please ask again.")
    ]
    assert afterwards.status_code == 404, "a turn whose process is gone is not found"


async def test_an_unknown_or_foreign_turn_is_404_on_the_other_process(
    clients: list[httpx2.AsyncClient], upstream: ScriptedUpstream
) -> None:
    a, b = clients
    upstream.script(Reply(chunks=["a", "b"], stall_after=1))
    mine = (await a.post("/session")).json()["session_id"]
    other = (await a.post("/session")).json()["session_id"]
    async with a.stream("POST", "/stream", json={"prompt": "hi", "session_id": mine}) as response:
        turn_id = response.headers["X-Turn-Id"]
        await Events(response).take(1)
        answers = [
            await b.get("/stream/AAAAAAAAAAAAAAAAAAAAAA"),
            await b.get(f"/stream/{turn_id}", params={"session_id": other}),
            await b.delete(f"/stream/{turn_id}", params={"session_id": other}),
            await b.delete("/stream/AAAAAAAAAAAAAAAAAAAAAA"),
        ]
        assert (await b.delete(f"/stream/{turn_id}")).status_code == 200
    assert [answer.status_code for answer in answers] == [404] * 4


async def test_an_ai_sdk_chat_cut_on_one_process_resumes_whole_on_the_other(
    clients: list[httpx2.AsyncClient], upstream: ScriptedUpstream
) -> None:
    a, b = clients
    upstream.script(Reply(chunks=WORDS, delay=0.15))
    chat = new_chat("go on")
    async with a.stream("POST", "/api/chat", json=chat) as response:
        turn_id, session_id = response.headers["X-Turn-Id"], response.headers["X-Session-Id"]
        cut = UIChunks(response)
        seen = await cut.take(until="text-delta")
    async with b.stream("GET", f"/api/chat/{chat['id']}/stream") as response:
        assert response.headers["X-Turn-Id"] == turn_id
        resumed = UIChunks(response)
        replay = await resumed.take()
    assert ui_text_of(seen) == WORDS[0]
    # the whole answer from its start, as the AI SDK expects of a resume, then live to its end
    assert ui_text_of(replay) == "".join(WORDS)
    assert replay[0] == {"type": "start", "messageId": turn_id}  # the server's id of the answer (issue 22)
    assert replay[-2:] == [{"type": "finish", "finishReason": "stop"}, "[DONE]"]
    assert resumed.raw.startswith(cut.raw), "a replay on the other process writes the same bytes"
    messages = (await b.get(f"/session/{session_id}")).json()["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [("user", "go on"), ("assistant", "".join(WORDS))]
    assert (await a.get(f"/api/chat/{chat['id']}/stream")).status_code == 204, "nothing runs any more"


async def test_an_ai_sdk_chat_cut_after_a_tool_resumes_on_the_other_process_with_its_steps(
    clients: list[httpx2.AsyncClient], upstream: ScriptedUpstream
) -> None:
    """The other process knows the turn only from its buffer: the model rounds and the tool call
    it stored come back as the same steps and tool part the cut client read."""
    a, b = clients
    upstream.script(
        Reply(chunks=[], tool_calls=[ScriptedToolCall("calculate", '{"expression": "25^2"}')]),
        Reply(chunks=WORDS[:10], delay=0.15),
    )
    chat = new_chat("25 squared?")
    async with a.stream("POST", "/api/chat", json=chat) as response:
        cut = UIChunks(response)
        seen = await cut.take(until="tool-output-available")
    async with b.stream("GET", f"/api/chat/{chat['id']}/stream") as response:
        resumed = UIChunks(response)
        replay = await resumed.take()
    tool_part = ["tool-input-start", "tool-input-delta", "tool-input-available", "tool-output-available"]
    assert [chunk["type"] for chunk in seen] == ["start", "start-step", *tool_part]
    assert [chunk if chunk == "[DONE]" else chunk["type"] for chunk in replay] == [
        "start",
        *("start-step", *tool_part, "finish-step"),
        *("start-step", "text-start", *["text-delta"] * 10, "text-end", "finish-step"),
        "finish",
        "[DONE]",
    ]
    assert replay[: len(seen)] == seen
    assert resumed.raw.startswith(cut.raw), "a replay on the other process writes the same bytes"
    assert ui_text_of(replay) == "".join(WORDS[:10])


async def test_an_ai_sdk_chat_is_stopped_from_the_other_process(
    clients: list[httpx2.AsyncClient], upstream: ScriptedUpstream
) -> None:
    a, b = clients
    upstream.script(Reply(chunks=["Half an", " answer"], stall_after=1))
    chat = new_chat("go on")
    async with a.stream("POST", "/api/chat", json=chat) as response:
        turn_id, session_id = response.headers["X-Turn-Id"], response.headers["X-Session-Id"]
        chunks = UIChunks(response)
        first = await chunks.take(until="text-delta")
        stopped = await b.delete(f"/api/chat/{chat['id']}/stream")
        rest = await chunks.take()
    assert await asyncio.to_thread(upstream.disconnected.wait, 10), "the upstream call was not closed"
    assert stopped.status_code == 200, stopped.text
    assert stopped.json() == {"turn_id": turn_id, "message": "The answer was stopped."}
    assert ui_text_of(first) == "Half an"
    assert rest[-2:] == [{"type": "finish", "finishReason": "stop"}, "[DONE]"]
    messages = (await b.get(f"/session/{session_id}")).json()["messages"]
    assert [(m["role"], m["content"], m.get("stopped")) for m in messages] == [
        ("user", "go on", None),
        ("assistant", "Half an", True),
    ]
    assert (await b.delete(f"/api/chat/{chat['id']}/stream")).status_code == 404, "nothing runs any more"
