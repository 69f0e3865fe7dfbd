"""POST /stream: the SSE contract, tools, history and every error, on both stores."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedToolCall, ScriptedUpstream
from ..sse import parse_events, text_of


async def stream(client: httpx2.AsyncClient, **body: Any) -> httpx2.Response:
    return await client.post("/stream", json=body)


async def new_session(client: httpx2.AsyncClient) -> str:
    response = await client.post("/session")
    assert response.status_code == 200
    return str(response.json()["session_id"])


async def test_every_event_is_a_data_line_with_type_and_integer_ms_timestamp(client: httpx2.AsyncClient) -> None:
    response = await stream(client, prompt="Hello there")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    events = parse_events(response.text)
    assert events[-1]["type"] == "end"
    assert all(isinstance(event["timestamp"], int) and event["timestamp"] > 1_600_000_000_000 for event in events)
    assert "offline demo" in text_of(events)


async def test_the_demo_model_calls_the_time_tool_and_streams_the_answer(client: httpx2.AsyncClient) -> None:
    events = parse_events((await stream(client, prompt="What time is it in Asia/Tokyo?")).text)
    tools = [event for event in events if event["type"] == "tool_result"]
    assert [tool["tool_name"] for tool in tools] == ["get_current_time"]
    assert "Asia/Tokyo" in tools[0]["result"]
    assert "Asia/Tokyo" in text_of(events)
    assert events[-1]["type"] == "end"


async def test_upstream_text_streams_through_the_real_sdk(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(Reply(chunks=["Hel", "lo ", "wörld", " 👋"]))
    async with client_for(upstream_settings()) as client:
        events = parse_events((await stream(client, prompt="hi")).text)
    assert [event["content"] for event in events if event["type"] == "chunk"] == ["Hel", "lo ", "wörld", " 👋"]
    sent = upstream.requests[0]
    assert sent["stream"] is True
    assert sent["messages"][0]["role"] == "system"
    assert "portfolio" in sent["messages"][0]["content"]
    assert sent["messages"][-1] == {"role": "user", "content": "hi"}
    assert {tool["function"]["name"] for tool in sent["tools"]} >= {"get_current_time", "get_session_info"}


async def test_tool_call_deltas_split_across_chunks_are_assembled_and_answered(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(
        Reply(chunks=[], tool_calls=[ScriptedToolCall("get_current_time", '{"timezone": "Europe/Paris"}', pieces=5)]),
        Reply(chunks=["It is ", "late."]),
    )
    async with client_for(upstream_settings()) as client:
        events = parse_events((await stream(client, prompt="time?")).text)
    assert [event["type"] for event in events] == ["tool_result", "chunk", "chunk", "end"]
    assert "Europe/Paris" in events[0]["result"]
    follow_up = upstream.requests[1]["messages"]
    assert follow_up[-2]["tool_calls"][0]["function"] == {
        "name": "get_current_time",
        "arguments": '{"timezone": "Europe/Paris"}',
    }
    assert follow_up[-1]["role"] == "tool"
    assert follow_up[-1]["tool_call_id"] == "call_1"


async def test_tool_fragments_without_index_or_id_and_with_empty_pieces_still_work(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    """Some OpenAI-compatible servers omit `index`/`id` and send empty fragments."""
    call = ScriptedToolCall("get_current_time", '{"timezone": "UTC"}', id=None, index=None, pieces=4)
    upstream.script(Reply(chunks=[], tool_calls=[call], empty_fragments=True), Reply(chunks=["Done."]))
    async with client_for(upstream_settings()) as client:
        events = parse_events((await stream(client, prompt="time?")).text)
    assert events[0]["type"] == "tool_result"
    assert events[0]["result"].startswith("Current time in UTC")
    assert upstream.requests[1]["messages"][-1]["tool_call_id"]  # a generated id pairs call and result


async def test_bad_tool_arguments_from_the_model_go_back_to_it_as_a_tool_error(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(
        Reply(chunks=[], tool_calls=[ScriptedToolCall("get_current_time", '{"timezone": ')]),
        Reply(chunks=["Sorry."]),
    )
    async with client_for(upstream_settings()) as client:
        events = parse_events((await stream(client, prompt="time?")).text)
    assert events[0]["type"] == "tool_result"
    assert events[0]["result"].startswith("Error: arguments are not valid JSON")
    assert events[-1]["type"] == "end"


async def test_the_tool_loop_is_bounded(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    looping = Reply(chunks=[], tool_calls=[ScriptedToolCall("get_current_time", "{}")])
    upstream.script(looping, looping, Reply(chunks=["Finally."]))
    async with client_for(upstream_settings(max_tool_rounds=2)) as client:
        events = parse_events((await stream(client, prompt="loop")).text)
    assert [event["type"] for event in events] == ["tool_result", "tool_result", "chunk", "end"]
    assert "tools" not in upstream.requests[2]  # the last round must answer in words


async def test_history_is_sent_upstream_and_stored_with_the_session(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(Reply(chunks=["Hi Ada."]), Reply(chunks=["You are Ada."]))
    async with client_for(upstream_settings()) as client:
        session_id = await new_session(client)
        await stream(client, prompt="I am Ada", session_id=session_id)
        await stream(client, prompt="Who am I?", session_id=session_id)
        history = (await client.get(f"/session/{session_id}")).json()
    assert [m["role"] for m in upstream.requests[1]["messages"]] == ["system", "user", "assistant", "user"]
    assert upstream.requests[1]["messages"][1:3] == [
        {"role": "user", "content": "I am Ada"},
        {"role": "assistant", "content": "Hi Ada."},
    ]
    assert [(m["role"], m["content"]) for m in history["messages"]] == [
        ("user", "I am Ada"),
        ("assistant", "Hi Ada."),
        ("user", "Who am I?"),
        ("assistant", "You are Ada."),
    ]
    assert history["message_count"] == 4


async def test_an_upstream_error_is_an_error_event_without_secrets(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(
        Reply(status=500, error_body={"error": {"message": "boom with key sk-test-secret-key", "type": "server"}})
    )
    async with client_for(upstream_settings()) as client:
        response = await stream(client, prompt="hi")
    events = parse_events(response.text)
    assert [event["type"] for event in events] == ["error"]
    assert "upstream status 500" in events[0]["error"]
    assert "sk-test" not in response.text


async def test_a_failed_turn_is_not_stored(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(Reply(status=503))
    async with client_for(upstream_settings()) as client:
        session_id = await new_session(client)
        await stream(client, prompt="hi", session_id=session_id)
        history = (await client.get(f"/session/{session_id}")).json()
    assert history["messages"] == []


async def test_a_stream_cut_mid_answer_ends_with_an_error_event(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(Reply(chunks=["one ", "two ", "three"], cut_after=2))
    async with client_for(upstream_settings()) as client:
        events = parse_events((await stream(client, prompt="hi")).text)
    assert [event["type"] for event in events] == ["chunk", "chunk", "error"]


async def test_unknown_session_is_404_before_streaming_and_costs_nothing(client: httpx2.AsyncClient) -> None:
    response = await stream(client, prompt="hi", session_id="3f1c8f6e-1d7a-4c8a-9a55-7f4f6c1e2b10")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert "not found" in response.json()["detail"].lower()
    assert (await client.get("/rate-limit-info")).json()["current_requests"] == 0


async def test_malformed_session_id_is_404(client: httpx2.AsyncClient) -> None:
    response = await stream(client, prompt="hi", session_id="../../etc/passwd")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_blank_prompt_is_422_with_a_clear_message(client: httpx2.AsyncClient) -> None:
    response = await stream(client, prompt="   ")
    assert response.status_code == 422
    assert response.json() == {"error": "validation_error", "detail": "prompt: Prompt cannot be empty"}


async def test_missing_prompt_and_wrong_types_are_422(client: httpx2.AsyncClient) -> None:
    for body in ({}, {"prompt": 5}, {"prompt": "x", "session_id": ["a"]}, [1, 2]):
        response = await client.post("/stream", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"] == "validation_error"


async def test_malformed_json_is_422(client: httpx2.AsyncClient) -> None:
    response = await client.post("/stream", content=b"{bad", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == "the request body is not valid JSON"


# a UTF-16 half on its own is not text: escaped in the JSON, or as its raw UTF-8-style bytes
LONE_SURROGATES = [
    pytest.param(b'{"prompt": "hi \\ud800 there"}', id="escaped"),
    pytest.param(b'{"prompt": "hi \\udfff"}', id="escaped-low"),
    pytest.param(b'{"prompt": "hi \xed\xa0\x80"}', id="raw-bytes"),
]


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
@pytest.mark.parametrize("body", LONE_SURROGATES)
async def test_a_lone_surrogate_in_the_prompt_is_422_before_any_stream(client: httpx2.AsyncClient, body: bytes) -> None:
    session_id = (await client.post("/session")).json()["session_id"]
    body = body.replace(b'{"prompt"', b'{"session_id": "' + session_id.encode() + b'", "prompt"')
    response = await client.post("/stream", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "error": "validation_error",
        "detail": "prompt: holds a lone surrogate (an unpaired UTF-16 half), which is not text",
    }
    assert (await client.get("/rate-limit-info")).json()["current_requests"] == 0
    assert (await client.get(f"/session/{session_id}")).json()["message_count"] == 0


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_a_surrogate_pair_is_text_and_streams(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        "/stream", content=b'{"prompt": "smile \\ud83d\\ude00"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 200


async def test_a_prompt_over_the_limit_is_refused_and_costs_nothing(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(prompt_max_chars=10)) as client:
        response = await stream(client, prompt="x" * 11)
        assert response.status_code == 422
        assert "at most 10 characters" in response.json()["detail"]
        assert (await client.get("/rate-limit-info")).json()["current_requests"] == 0


async def test_an_oversized_body_is_413(client: httpx2.AsyncClient) -> None:
    response = await client.post("/stream", content=json.dumps({"prompt": "x" * 70_000}))
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
