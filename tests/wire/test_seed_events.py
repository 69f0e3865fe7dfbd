"""POST /stream's wire format: each typed event becomes the one `data:` line existing clients parse."""

from __future__ import annotations

import json
import time

import pytest

from portfolio_backend.chat import End, Error, RoundStarted, TextDelta, ToolCalled, ToolOutput, TurnEvent
from portfolio_backend.wire.seed_events import StreamEncoder


def parse(line: bytes) -> dict[str, object]:
    assert line.startswith(b"data: ")
    assert line.endswith(b"\n\n")
    assert b"\n" not in line[:-2], "one event is one line"
    decoded: dict[str, object] = json.loads(line[6:])
    return decoded


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (TextDelta("Hel"), {"type": "chunk", "content": "Hel", "seq": 1}),
        (
            ToolOutput("call_1", "calculate", '{"expression":"25^2"}', "25^2 = 625", ok=True),
            {"type": "tool_result", "tool_name": "calculate", "result": "25^2 = 625", "seq": 1},
        ),
        (End(), {"type": "end", "seq": 1}),
        (End(stopped=True), {"type": "end", "stopped": True, "seq": 1}),
        (
            Error("The model could not be reached."),
            {"type": "error", "error": "The model could not be reached.", "seq": 1},
        ),
    ],
    ids=["chunk", "tool_result", "end", "stopped", "error"],
)
def test_each_event_is_the_seed_json_with_type_first_and_timestamp_last(
    event: TurnEvent, expected: dict[str, object]
) -> None:
    before = time.time_ns() // 1_000_000
    payload = parse(StreamEncoder().encode(event))
    after = time.time_ns() // 1_000_000
    timestamp = payload.pop("timestamp")
    assert isinstance(timestamp, int)
    assert before <= timestamp <= after
    assert payload == expected
    assert list(payload) == list(expected), "key order as clients have always received it"


def test_a_chunk_keeps_unicode_quotes_and_newlines_on_one_line() -> None:
    text = 'Grüße "quoted"\nnext line \u2028 😀'
    line = StreamEncoder().encode(TextDelta(text))
    assert "Grüße".encode() in line, "written as UTF-8, not \\u escapes"
    assert parse(line)["content"] == text


def test_a_chunk_is_the_same_compact_json_as_every_other_event() -> None:
    encoder = StreamEncoder()
    chunk = encoder.encode(TextDelta("a"))
    assert chunk.startswith(b'data: {"type":"chunk","content":"a","seq":1,"timestamp":')
    assert encoder.encode(End()).startswith(b'data: {"type":"end","seq":2,"timestamp":')


def test_seq_numbers_a_responses_events_from_the_resume_point_keepalives_excluded() -> None:
    encoder = StreamEncoder(after=41)
    first = parse(encoder.encode(TextDelta("a")))
    keepalive = parse(encoder.keepalive())
    second = parse(encoder.encode(End()))
    assert (first["seq"], second["seq"]) == (42, 43)
    assert "seq" not in keepalive


def test_rounds_and_tool_calls_write_nothing_but_count_in_seq() -> None:
    """Seed clients never see the events this format has no line for; the numbering stays the
    turn's own, so a reattach with `after` means the same event on every format."""
    encoder = StreamEncoder()
    round_started = encoder.encode(RoundStarted())
    called = encoder.encode(ToolCalled("call_1", "calculate", '{"expression":"2+2"}'))
    output = parse(encoder.encode(ToolOutput("call_1", "calculate", '{"expression":"2+2"}', "2+2 = 4", ok=True)))
    assert (round_started, called) == (b"", b"")
    assert output["seq"] == 3


def test_a_failed_tool_is_reported_like_a_successful_one() -> None:
    output = ToolOutput("call_2", "get_weather", "{}", "Weather is not configured.", ok=False)
    assert parse(StreamEncoder().encode(output))["result"] == "Weather is not configured."


def test_keepalive_is_a_data_event_a_json_parser_accepts() -> None:
    payload = parse(StreamEncoder().keepalive())
    assert payload["type"] == "keepalive"
    assert isinstance(payload["timestamp"], int)
