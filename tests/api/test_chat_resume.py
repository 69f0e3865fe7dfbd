"""Resumable AI SDK chats (issue 16): GET /api/chat/{id}/stream resumes, DELETE stops, on each store.

POST /api/chat's turn is live: a client cut mid-answer resumes it by chat id and gets the whole
answer from its start (the AI SDK replays a resumed answer), and the Stop route ends it at once,
keeping the partial answer marked stopped. Over a real socket, against the scripted upstream;
the SDK's own client in tests/aisdk, two processes in tests/scale/test_resume_processes.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedUpstream
from ..sse import UIChunks, ui_text_of

WORDS = [f"word{i} " for i in range(30)]
ADA, EVE = {"x-forwarded-for": "203.0.113.7"}, {"x-forwarded-for": "198.51.100.9"}


def body(text: str, chat_id: str, trigger: str = "submit-message", *, resume: bool = True) -> dict[str, Any]:
    """What DefaultChatTransport sends for `sendMessage({text})`; `resume` is what the resumable
    set-up's `prepareSendMessagesRequest` adds (docs/ai-sdk.md)."""
    message = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": text}]}
    return {"id": chat_id, "messages": [message], "trigger": trigger, "messageId": None, "resume": resume}


def whole_answer(text: list[str], turn_id: str) -> list[Any]:
    """The UI message stream of a one-round answer made of these deltas; its message's id is the turn's."""
    deltas = [{"type": "text-delta", "id": "text-1", "delta": piece} for piece in text]
    return [
        {"type": "start", "messageId": turn_id},
        {"type": "start-step"},
        {"type": "text-start", "id": "text-1"},
        *deltas,
        {"type": "text-end", "id": "text-1"},
        {"type": "finish-step"},
        {"type": "finish", "finishReason": "stop"},
        "[DONE]",
    ]


@dataclass
class Answer:
    turn_id: str
    session_id: str
    chunks: UIChunks  # the rest of the answer, to read
    first: list[Any]  # what was read: up to its first text


@asynccontextmanager
async def answering(
    client: httpx2.AsyncClient, text: str, chat_id: str, *, resume: bool = True
) -> AsyncIterator[Answer]:
    """POST /api/chat and read up to the answer's first text; the connection drops on exit."""
    async with client.stream("POST", "/api/chat", json=body(text, chat_id, resume=resume)) as response:
        chunks = UIChunks(response)
        first = await chunks.take(until="text-delta")
        yield Answer(response.headers["x-turn-id"], response.headers["x-session-id"], chunks, first)


async def history(client: httpx2.AsyncClient, session_id: str) -> list[tuple[str, str, bool | None]]:
    messages = (await client.get(f"/session/{session_id}")).json()["messages"]
    return [(m["role"], m["content"], m.get("stopped")) for m in messages]


@pytest.fixture
def settings(upstream_settings: Callable[..., Settings]) -> Settings:
    # each test's visitors are told apart by X-Forwarded-For from the trusted local peer
    return upstream_settings(trusted_proxies="127.0.0.1/32")


async def test_resume_is_204_when_no_answer_is_running(
    settings: Settings, upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    with live_server_for(settings) as server:
        async with httpx2.AsyncClient(base_url=server.url, headers=ADA, timeout=10) as client:
            never_used = await client.get("/api/chat/never-used/stream")
            answered = await client.post("/api/chat", json=body("hi", "chat-1"))
            after_the_answer = await client.get("/api/chat/chat-1/stream")
    assert answered.status_code == 200
    for response in (never_used, after_the_answer):
        assert response.status_code == 204
        assert response.content == b""
        assert "x-turn-id" not in response.headers


async def test_a_chat_cut_mid_answer_resumes_with_the_whole_answer_once(
    settings: Settings, upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=WORDS, delay=0.03))
    with live_server_for(settings) as server:
        async with httpx2.AsyncClient(base_url=server.url, headers=ADA, timeout=10) as client:
            async with answering(client, "go on", "chat-1") as cut:
                pass
            async with client.stream("GET", "/api/chat/chat-1/stream") as response:
                assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
                assert response.headers["x-turn-id"] == cut.turn_id
                resumed = UIChunks(response)
                replay = await resumed.take()
            stored = await history(client, cut.session_id)
    assert ui_text_of(cut.first) == "word0 "
    # from its start, once: the SDK replaces what it had with this, so nothing is doubled or lost
    assert replay == whole_answer(WORDS, cut.turn_id)
    assert resumed.raw.startswith(cut.chunks.raw), "a replay writes the bytes the cut client read"
    assert stored == [("user", "go on", None), ("assistant", "".join(WORDS), None)]


async def test_without_resume_a_dropped_request_is_a_stop(
    settings: Settings, upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    """useChat's stop() only aborts the request: by default that is the visitor's Stop, so nothing
    runs on unseen and unbilled for the grace period, and the answer is kept as it was shown."""
    upstream.script(Reply(chunks=["Half an", " answer"], stall_after=1))
    with live_server_for(settings) as server:
        async with httpx2.AsyncClient(base_url=server.url, headers=ADA, timeout=10) as client:
            async with answering(client, "go on", "chat-1", resume=False) as cut:
                pass
            assert await asyncio.to_thread(upstream.disconnected.wait, 1.0), "the upstream call ran on"
            for _ in range(200):
                running = await client.get("/api/chat/chat-1/stream")
                if running.status_code == 204:
                    break
                await asyncio.sleep(0.02)  # polling for the stopped turn's end, not synchronising an assertion
            stored = await history(client, cut.session_id)
    assert ui_text_of(cut.first) == "Half an"
    assert upstream.completed_streams == 0
    assert running.status_code == 204, "nothing runs any more"
    assert stored == [("user", "go on", None), ("assistant", "Half an", True)]


async def test_another_visitors_chat_id_finds_nothing(
    settings: Settings, upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    """A chat id names a chat only with its visitor: to anyone else it is a chat never used."""
    upstream.script(Reply(chunks=["Private", " answer"], stall_after=1))
    with live_server_for(settings) as server:
        async with (
            httpx2.AsyncClient(base_url=server.url, headers=ADA, timeout=10) as ada,
            httpx2.AsyncClient(base_url=server.url, headers=EVE, timeout=10) as eve,
            answering(ada, "secret", "shared") as answer,
        ):
            resumed_by_eve = await eve.get("/api/chat/shared/stream")
            stopped_by_eve = await eve.delete("/api/chat/shared/stream")
            stopped_by_ada = await ada.delete("/api/chat/shared/stream")
            rest = await answer.chunks.take()
    assert resumed_by_eve.status_code == 204
    assert resumed_by_eve.content == b""
    assert stopped_by_eve.status_code == 404
    assert stopped_by_eve.json() == {"error": "not_found", "detail": "No answer is running in this chat."}
    assert "x-turn-id" not in resumed_by_eve.headers
    assert "x-turn-id" not in stopped_by_eve.headers
    assert answer.turn_id not in stopped_by_eve.text
    # Ada's answer ran on untouched until she stopped it
    assert stopped_by_ada.status_code == 200
    assert rest[-2:] == [{"type": "finish", "finishReason": "stop"}, "[DONE]"]


async def test_stop_ends_the_answer_at_once_and_keeps_it_marked_stopped(
    settings: Settings, upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=["Half an", " answer"], stall_after=1))
    with live_server_for(settings) as server:
        async with httpx2.AsyncClient(base_url=server.url, headers=ADA, timeout=10) as client:
            async with answering(client, "go on", "chat-1") as answer:
                stopped = await client.delete("/api/chat/chat-1/stream")
                rest = await answer.chunks.take()
            assert await asyncio.to_thread(upstream.disconnected.wait, 10), "the upstream call was not closed"
            again = await client.delete("/api/chat/chat-1/stream")
            resumed = await client.get("/api/chat/chat-1/stream")
            stored = await history(client, answer.session_id)
    assert stopped.status_code == 200
    assert stopped.json() == {"turn_id": answer.turn_id, "message": "The answer was stopped."}
    assert ui_text_of(answer.first) == "Half an"
    assert rest == [
        {"type": "text-end", "id": "text-1"},
        {"type": "finish-step"},
        {"type": "finish", "finishReason": "stop"},
        "[DONE]",
    ]
    assert upstream.completed_streams == 0
    assert again.status_code == 404, "nothing is running any more"
    assert resumed.status_code == 204
    assert stored == [("user", "go on", None), ("assistant", "Half an", True)]


async def test_a_stopped_answer_keeps_the_sources_its_text_used(
    settings: Settings, upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=["Day rates start at 650 EUR; fixed-price", " quotes too."], stall_after=1))
    with live_server_for(settings) as server:
        async with httpx2.AsyncClient(base_url=server.url, headers=ADA, timeout=10) as client:
            async with answering(client, "What are the rates?", "chat-1") as answer:
                stopped = await client.delete("/api/chat/chat-1/stream")
                rest = await answer.chunks.take()
            messages = (await client.get(f"/session/{answer.session_id}")).json()["messages"]
    assert stopped.status_code == 200
    assert [chunk["type"] for chunk in rest if chunk != "[DONE]"][:2] == ["source-document", "text-end"]
    assert messages[-1]["stopped"] is True
    assert [source["file"] for source in messages[-1]["sources"]] == ["services.md"]


async def test_regenerating_a_stopped_answer_replaces_it(
    settings: Settings, upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    upstream.script(Reply(chunks=["One."]), Reply(chunks=["Once", " upon"], stall_after=1), Reply(chunks=["Two."]))
    with live_server_for(settings) as server:
        async with httpx2.AsyncClient(base_url=server.url, headers=ADA, timeout=10) as client:
            await client.post("/api/chat", json=body("First?", "chat-1"))
            async with answering(client, "Second?", "chat-1") as answer:
                assert (await client.delete("/api/chat/chat-1/stream")).status_code == 200
            regenerated = await client.post("/api/chat", json=body("Second?", "chat-1", "regenerate-message"))
            stored = await history(client, answer.session_id)
    assert regenerated.status_code == 200
    assert stored == [
        ("user", "First?", None),
        ("assistant", "One.", None),
        ("user", "Second?", None),
        ("assistant", "Two.", None),
    ]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("chat_id", ["x" * 129, "not a chat id", "chat!"])
async def test_a_malformed_chat_id_is_422(method: str, chat_id: str, client: httpx2.AsyncClient) -> None:
    response = await client.request(method, f"/api/chat/{chat_id}/stream")
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
