"""A turn's events survive the turn buffer unchanged: what a follower on another process re-sends."""

from __future__ import annotations

import pytest

from portfolio_backend.chat import End, Error, RoundStarted, Sources, TextDelta, ToolCalled, ToolOutput, TurnEvent
from portfolio_backend.live.codec import decode_event, encode_event


@pytest.mark.parametrize(
    "event",
    [
        TextDelta('Grüße "quoted"\nnext \u2028 😀'),
        TextDelta(""),
        RoundStarted(),
        ToolCalled("call_1", "calculate", '{"expression":"2+2"}'),
        ToolCalled("call_3", "get_current_time", ""),
        ToolOutput("call_1", "calculate", '{"expression":"2+2"}', "2+2 = 4", ok=True),
        ToolOutput("call_2", "get_weather", "{bad", "Weather is not configured.", ok=False),
        Sources(({"title": "Rates", "file": "rates.md", "snippet": "650 EUR"},)),
        End(),
        End(stopped=True),
        Error("The model could not be reached."),
    ],
)
def test_every_event_decodes_to_what_was_encoded(event: TurnEvent) -> None:
    assert decode_event(encode_event(event)) == event


def test_a_text_delta_is_stored_as_a_bare_json_string() -> None:
    assert encode_event(TextDelta("Hel")) == '"Hel"'


def test_anything_else_is_refused() -> None:
    with pytest.raises(ValueError, match="not a stored turn event"):
        decode_event('{"t":"nope"}')
