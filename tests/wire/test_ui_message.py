"""POST /api/chat's wire format: a turn's typed events as the AI SDK's UI message stream (v1).

These check the framing the SDK's parser insists on; tests/aisdk checks that the SDK's own client
builds the right message from it.
"""

from __future__ import annotations

from portfolio_backend.chat import End, Error, RoundStarted, Sources, TextDelta, ToolCalled, ToolOutput, TurnEvent
from portfolio_backend.wire.ui_message import HEADERS, UIMessageEncoder

from ..sse import parse_ui_chunks

ROUND = RoundStarted()
CALL = ToolCalled("call_1", "calculate", '{"expression": "25^2"}')
OUTPUT = ToolOutput("call_1", "calculate", '{"expression": "25^2"}', "Result: 25^2 = 625", ok=True)
# what the AI SDK's streamText writes for a tool call: the input's start, its text, the input whole
CALL_CHUNKS = [
    {"type": "tool-input-start", "toolCallId": "call_1", "toolName": "calculate"},
    {"type": "tool-input-delta", "toolCallId": "call_1", "inputTextDelta": '{"expression": "25^2"}'},
    {"type": "tool-input-available", "toolCallId": "call_1", "toolName": "calculate", "input": {"expression": "25^2"}},
]


def encode(events: list[TurnEvent]) -> bytes:
    encoder = UIMessageEncoder()
    return b"".join(encoder.encode(event) for event in events)


def test_the_protocol_header_is_version_1() -> None:
    assert HEADERS == {"x-vercel-ai-ui-message-stream": "v1"}


def test_a_text_answer_is_one_text_part_inside_one_step() -> None:
    raw = encode([TextDelta("Hel"), TextDelta("lo"), End()])
    assert parse_ui_chunks(raw) == [
        {"type": "start"},
        {"type": "start-step"},
        {"type": "text-start", "id": "text-1"},
        {"type": "text-delta", "id": "text-1", "delta": "Hel"},
        {"type": "text-delta", "id": "text-1", "delta": "lo"},
        {"type": "text-end", "id": "text-1"},
        {"type": "finish-step"},
        {"type": "finish", "finishReason": "stop"},
        "[DONE]",
    ]


def test_a_tool_round_is_its_own_step_with_the_call_before_its_output() -> None:
    raw = encode([ROUND, TextDelta("Let me see."), CALL, OUTPUT, ROUND, TextDelta("625."), End()])
    assert parse_ui_chunks(raw) == [
        {"type": "start"},
        {"type": "start-step"},
        {"type": "text-start", "id": "text-1"},
        {"type": "text-delta", "id": "text-1", "delta": "Let me see."},
        {"type": "text-end", "id": "text-1"},
        *CALL_CHUNKS,
        {"type": "tool-output-available", "toolCallId": "call_1", "output": "Result: 25^2 = 625"},
        {"type": "finish-step"},
        {"type": "start-step"},
        {"type": "text-start", "id": "text-2"},
        {"type": "text-delta", "id": "text-2", "delta": "625."},
        {"type": "text-end", "id": "text-2"},
        {"type": "finish-step"},
        {"type": "finish", "finishReason": "stop"},
        "[DONE]",
    ]


def test_a_tool_call_is_written_when_called_so_the_client_shows_it_running() -> None:
    """The part is `input-available` (running) on the client from the call until the output."""
    encoder = UIMessageEncoder()
    called = parse_ui_chunks(encoder.encode(ROUND) + encoder.encode(CALL))
    answered = parse_ui_chunks(encoder.encode(OUTPUT))
    assert called == [{"type": "start"}, {"type": "start-step"}, *CALL_CHUNKS]
    assert answered == [{"type": "tool-output-available", "toolCallId": "call_1", "output": "Result: 25^2 = 625"}]


def test_two_tool_only_rounds_in_a_row_are_two_steps() -> None:
    second_call = ToolCalled("call_2", "calculate", '{"expression": "625+1"}')
    second_output = ToolOutput("call_2", "calculate", '{"expression": "625+1"}', "Result: 625+1 = 626", ok=True)
    raw = encode([ROUND, CALL, OUTPUT, ROUND, second_call, second_output, ROUND, TextDelta("626."), End()])
    types = [chunk["type"] if isinstance(chunk, dict) else chunk for chunk in parse_ui_chunks(raw)]
    tool = ["tool-input-start", "tool-input-delta", "tool-input-available", "tool-output-available"]
    assert types == [
        "start",
        *("start-step", *tool, "finish-step"),
        *("start-step", *tool, "finish-step"),
        *("start-step", "text-start", "text-delta", "text-end", "finish-step"),
        "finish",
        "[DONE]",
    ]


def test_a_round_that_fails_before_its_first_part_opens_no_step() -> None:
    """As the SDK, which opens a step with the model's first chunk: a model that never answered has none."""
    assert parse_ui_chunks(encode([ROUND, Error("The model failed to answer.")])) == [
        {"type": "start"},
        {"type": "error", "errorText": "The model failed to answer."},
        "[DONE]",
    ]


def test_every_call_of_a_round_is_running_before_the_first_output() -> None:
    second_call = ToolCalled("call_2", "get_current_time", "")
    second_output = ToolOutput("call_2", "get_current_time", "", "12:00 UTC", ok=True)
    parsed = parse_ui_chunks(encode([ROUND, CALL, second_call, OUTPUT, second_output]))
    assert [(chunk["type"], chunk["toolCallId"]) for chunk in parsed[2:]] == [
        ("tool-input-start", "call_1"),
        ("tool-input-delta", "call_1"),
        ("tool-input-available", "call_1"),
        ("tool-input-start", "call_2"),  # no arguments: no input text to send
        ("tool-input-available", "call_2"),
        ("tool-output-available", "call_1"),
        ("tool-output-available", "call_2"),
    ]
    assert parsed[-3]["input"] == ""


def test_an_output_whose_call_was_not_written_brings_its_input_first() -> None:
    """Events from before `ToolCalled` existed (a turn buffer): the client needs the part before its output."""
    parsed = parse_ui_chunks(encode([OUTPUT]))
    assert [chunk["type"] for chunk in parsed] == [
        "start",
        "start-step",
        "tool-input-available",
        "tool-output-available",
    ]


def test_a_failed_tool_is_a_tool_output_error() -> None:
    failed = ToolOutput("call_9", "get_weather", "{}", "Weather is not configured.", ok=False)
    parsed = parse_ui_chunks(encode([failed]))
    assert parsed[-1] == {
        "type": "tool-output-error",
        "toolCallId": "call_9",
        "errorText": "Weather is not configured.",
    }


def test_arguments_that_are_not_json_reach_the_client_as_the_text_the_model_sent() -> None:
    bad = ToolOutput("call_1", "calculate", '{"expression": "2+', "Invalid arguments", ok=False)
    parsed = parse_ui_chunks(encode([bad]))
    assert parsed[-2]["input"] == '{"expression": "2+'


def test_a_failed_turn_closes_its_parts_then_reports_the_error_and_ends() -> None:
    parsed = parse_ui_chunks(encode([TextDelta("Par"), Error("The model stream was interrupted.")]))
    assert parsed[-4:] == [
        {"type": "text-end", "id": "text-1"},
        {"type": "finish-step"},
        {"type": "error", "errorText": "The model stream was interrupted."},
        "[DONE]",
    ]


def test_an_error_before_anything_else_is_still_a_well_formed_stream() -> None:
    assert parse_ui_chunks(encode([Error("The server is restarting.")])) == [
        {"type": "start"},
        {"type": "error", "errorText": "The server is restarting."},
        "[DONE]",
    ]


def test_text_keeps_unicode_quotes_and_newlines_on_one_line() -> None:
    text = 'Grüße "quoted"\nnext line \u2028 😀'
    raw = encode([TextDelta(text)])
    assert "Grüße".encode() in raw, "written as UTF-8, not \\u escapes"
    assert parse_ui_chunks(raw)[-1] == {"type": "text-delta", "id": "text-1", "delta": text}


def test_replaying_the_events_through_a_new_encoder_gives_the_same_bytes() -> None:
    """What a resumed stream needs: the AI SDK replays a resumed answer from its start."""
    events: list[TurnEvent] = [ROUND, TextDelta("a"), CALL, OUTPUT, ROUND, TextDelta("b"), End()]
    assert encode(events) == encode(events)


def test_keepalive_is_a_comment_the_sdk_parser_skips() -> None:
    keepalive = UIMessageEncoder().keepalive()
    assert keepalive.startswith(b":")
    assert keepalive.endswith(b"\n\n")


def test_knowledge_sources_are_source_parts_after_the_text_they_back_with_their_number() -> None:
    sources = Sources(
        (
            {"title": "Projects", "url": "https://alex.dev/projects", "snippet": "A chat backend.", "n": 2},
            {"title": "About", "file": "about.md", "snippet": "Alex builds things."},
        )
    )
    parsed = parse_ui_chunks(encode([TextDelta("Alex built it [2]."), sources, End()]))
    assert [chunk if chunk == "[DONE]" else chunk["type"] for chunk in parsed] == [
        "start",
        "start-step",
        "text-start",
        "text-delta",
        "source-url",
        "source-document",
        "text-end",
        "finish-step",
        "finish",
        "[DONE]",
    ]
    assert parsed[4:6] == [
        {
            "type": "source-url",
            "sourceId": "https://alex.dev/projects",
            "url": "https://alex.dev/projects",
            "title": "Projects",
            "providerMetadata": {"knowledge": {"snippet": "A chat backend.", "n": 2}},
        },
        {
            "type": "source-document",
            "sourceId": "about.md",
            "mediaType": "text/markdown",
            "title": "About",
            "filename": "about.md",
            "providerMetadata": {"knowledge": {"snippet": "Alex builds things."}},
        },
    ]


def test_the_start_part_names_the_message_by_the_turn_id() -> None:
    encoder = UIMessageEncoder("t3N8cYQk0hG2vR7pLx9aZw")
    raw = b"".join(encoder.encode(event) for event in [TextDelta("Hi."), End()])
    assert parse_ui_chunks(raw)[0] == {"type": "start", "messageId": "t3N8cYQk0hG2vR7pLx9aZw"}
