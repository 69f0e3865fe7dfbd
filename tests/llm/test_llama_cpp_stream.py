"""What the service must tolerate from llama-cpp-python's OpenAI-compatible server, replayed by the
scripted upstream (Reply(dialect="llama-cpp-python")) so the default suite keeps this coverage
without the model: every delta field present and `null`, a tool call's id and name repeated in every
fragment, the legacy `function_call` beside `tool_calls`, and no usage at all.
tests/llm/test_model_server.py runs the same turns against the real server when it is installed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedToolCall, ScriptedUpstream
from ..sse import parse_events, text_of
from ..test_observability import metric

pytestmark = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)

LLAMA = "llama-cpp-python"


async def test_text_with_null_fields_and_no_usage_streams_is_stored_and_its_usage_estimated(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    upstream.script(
        Reply(chunks=["Hi", ", I am", " a small model."], dialect=LLAMA),
        Reply(chunks=["Still", " here."], dialect=LLAMA),
    )
    async with client_for(upstream_settings()) as client:
        session_id = (await client.post("/session")).json()["session_id"]
        first = parse_events((await client.post("/stream", json={"prompt": "hi", "session_id": session_id})).text)
        second = parse_events((await client.post("/stream", json={"prompt": "and?", "session_id": session_id})).text)
        history = (await client.get(f"/session/{session_id}")).json()
        text = (await client.get("/metrics")).text
    assert [event["type"] for event in first] == ["chunk", "chunk", "chunk", "end"]
    assert text_of(first) == "Hi, I am a small model."
    assert text_of(second) == "Still here."
    assert history["message_count"] == 4
    assert upstream.requests[1]["messages"][-2] == {"role": "assistant", "content": "Hi, I am a small model."}
    # the server ignores stream_options: no usage arrives, so the turns' usage is estimated, marked so
    assert upstream.requests[0]["stream_options"] == {"include_usage": True}
    assert metric(text, "portfolio_chat_turns_total", outcome="completed") == 2
    model = upstream_settings().openai_model
    for kind in ("prompt", "completion"):
        assert metric(text, "portfolio_llm_tokens_total", kind=kind, model=model, source="estimated") > 0
        assert metric(text, "portfolio_llm_tokens_total", kind=kind, model=model, source="reported") == 0


async def test_a_tool_call_repeating_its_id_and_name_with_function_call_beside_is_one_call(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    arguments = '{"timezone": "Europe/Paris"}'
    call = ScriptedToolCall("get_current_time", arguments, id="call__0_get_current_time_cmpl-1", pieces=6)
    upstream.script(Reply(chunks=[], tool_calls=[call], dialect=LLAMA), Reply(chunks=["It is late."], dialect=LLAMA))
    async with client_for(upstream_settings()) as client:
        events = parse_events((await client.post("/stream", json={"prompt": "time in Paris?"})).text)
    assert [event["type"] for event in events] == ["tool_result", "chunk", "end"]
    assert events[0]["tool_name"] == "get_current_time"
    assert "Europe/Paris" in events[0]["result"]
    sent = upstream.requests[1]["messages"]
    assert sent[-2]["tool_calls"] == [
        {
            "id": "call__0_get_current_time_cmpl-1",
            "type": "function",
            "function": {"name": "get_current_time", "arguments": arguments},
        }
    ]
    assert sent[-1]["role"] == "tool"
    assert sent[-1]["tool_call_id"] == "call__0_get_current_time_cmpl-1"


async def test_two_tool_calls_in_one_llama_cpp_stream_stay_apart(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    calls = [
        ScriptedToolCall("get_current_time", '{"timezone": "UTC"}', id="call__0_get_current_time_cmpl-2"),
        ScriptedToolCall("calculate", json.dumps({"expression": "6*7"}), id="call__1_calculate_cmpl-2"),
    ]
    upstream.script(Reply(chunks=[], tool_calls=calls, dialect=LLAMA), Reply(chunks=["Done."], dialect=LLAMA))
    async with client_for(upstream_settings()) as client:
        events = parse_events((await client.post("/stream", json={"prompt": "time, and 6*7?"})).text)
    results = [event for event in events if event["type"] == "tool_result"]
    assert sorted(event["tool_name"] for event in results) == ["calculate", "get_current_time"]
    assert any("42" in event["result"] for event in results)
    sent = upstream.requests[1]["messages"]
    assert [call["function"]["name"] for call in sent[-3]["tool_calls"]] == ["get_current_time", "calculate"]


async def test_tool_choice_is_sent_with_the_tools_only_when_configured(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    # vLLM refuses "auto" unless started with a flag; llama-cpp-python's function-calling format
    # streams a tool call only when the tool is named: so it is the owner's setting, unset by default
    call = ScriptedToolCall("calculate", json.dumps({"expression": "6*7"}), id="call__0_calculate_cmpl-3")
    named = {"type": "function", "function": {"name": "calculate"}}
    for configured, first_round, later_rounds in (
        ("auto", "auto", "auto"),
        ("", None, None),
        ("calculate", named, None),
    ):
        upstream.reset()
        upstream.script(
            Reply(chunks=[], tool_calls=[call], dialect=LLAMA),
            Reply(chunks=[], tool_calls=[call], dialect=LLAMA),
            Reply(chunks=["42."], dialect=LLAMA),
        )
        async with client_for(upstream_settings(openai_tool_choice=configured, max_tool_rounds=2)) as client:
            events = parse_events((await client.post("/stream", json={"prompt": "6*7?"})).text)
        assert [event["type"] for event in events] == ["tool_result", "tool_result", "chunk", "end"]
        first, second, last = upstream.requests
        assert first["tools"]
        assert first.get("tool_choice") == first_round
        # a named tool is forced once per turn: after its result the model may answer
        assert second["tools"]
        assert second.get("tool_choice") == later_rounds
        # the last round offers no tools, so it asks for no choice among them (servers refuse that)
        assert "tools" not in last
        assert "tool_choice" not in last


async def test_arguments_with_a_raw_control_character_in_a_string_are_read(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, client_for: Any
) -> None:
    # SmolLM2 under llama.cpp's JSON-Schema grammar writes raw tabs and newlines inside strings,
    # which strict JSON refuses; the tool should read them as themselves
    call = ScriptedToolCall("calculate", '{"expression": "12 *\t7"}', id="call__0_calculate_cmpl-4")
    upstream.script(Reply(chunks=[], tool_calls=[call], dialect=LLAMA), Reply(chunks=["84."], dialect=LLAMA))
    async with client_for(upstream_settings()) as client:
        events = parse_events((await client.post("/stream", json={"prompt": "12 times 7?"})).text)
    assert events[0]["type"] == "tool_result"
    assert "84" in events[0]["result"]
