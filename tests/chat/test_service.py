"""A chat turn as typed events, without HTTP: what every wire format (wire/) is built from.

The model is the scripted upstream over HTTP through the real openai SDK, the store a real SQLite file.
"""

from __future__ import annotations

from portfolio_backend.chat import (
    ChatService,
    End,
    Error,
    RoundStarted,
    TextDelta,
    ToolCalled,
    ToolOutput,
    Turn,
    TurnEvent,
    TurnOutcome,
    TurnReport,
)
from portfolio_backend.chat.service import stopped_messages
from portfolio_backend.clock import now_ms
from portfolio_backend.store import Message

from ..fixtures.upstream import Reply, ScriptedToolCall, ScriptedUpstream


async def run(chat: ChatService, turn: Turn) -> tuple[list[TurnEvent], TurnReport]:
    report = TurnReport()
    return [event async for event in chat.run_turn(turn, report)], report


async def test_a_tool_turn_yields_each_round_its_call_its_output_then_the_text_then_end(
    chat: ChatService, upstream: ScriptedUpstream
) -> None:
    upstream.script(
        Reply(chunks=[], tool_calls=[ScriptedToolCall("calculate", '{"expression": "25^2"}')]),
        Reply(chunks=["It is ", "625."]),
    )
    session = await chat.stores.sessions.create("5f0c5d52-3c55-4c8b-9f60-0d3f6f1b7a10", "visitor", now_ms(), 3600)
    events, report = await run(chat, Turn(prompt="25 squared?", visitor="visitor", session_id=session.session_id))

    first_round, called, output, second_round, *text, end = events
    assert first_round == second_round == RoundStarted()
    assert called == ToolCalled("call_1", "calculate", '{"expression": "25^2"}')
    assert isinstance(output, ToolOutput)
    assert (output.call_id, output.tool_name, output.arguments, output.ok) == (
        "call_1",
        "calculate",
        '{"expression": "25^2"}',
        True,
    )
    assert "625" in output.result
    assert text == [TextDelta("It is "), TextDelta("625.")]
    assert end == End()
    assert report.outcome is TurnOutcome.COMPLETED
    # what its session keeps, which the turn's settlement stores (tests/chat/test_settlement.py)
    assert report.messages is not None
    assert [message.role for message in report.messages] == ["user", "assistant", "tool", "assistant"]


async def test_a_tool_call_is_yielded_before_the_tool_runs(chat: ChatService, upstream: ScriptedUpstream) -> None:
    """What lets a client show a tool as running: the call comes first, the output once it has run."""
    upstream.script(
        Reply(
            chunks=[],
            tool_calls=[
                ScriptedToolCall("calculate", '{"expression": "2+2"}', id="call_1", index=0),
                ScriptedToolCall("calculate", '{"expression": "3*3"}', id="call_2", index=1),
            ],
        ),
        Reply(chunks=["4 and 9."]),
    )
    report = TurnReport()
    ran_before: dict[str, int] = {}  # each call: how many tools had run when it was yielded
    async for event in chat.run_turn(Turn(prompt="2+2 and 3*3?", visitor="visitor"), report):
        if isinstance(event, ToolCalled):
            ran_before[event.call_id] = len(report.tool_results)
    assert ran_before == {"call_1": 0, "call_2": 0}
    assert [result.ok for result in report.tool_results] == [True, True]


async def test_two_tool_rounds_in_a_row_each_begin_with_their_own_round(
    chat: ChatService, upstream: ScriptedUpstream
) -> None:
    upstream.script(
        Reply(chunks=[], tool_calls=[ScriptedToolCall("calculate", '{"expression": "2+2"}', id="call_1")]),
        Reply(chunks=[], tool_calls=[ScriptedToolCall("calculate", '{"expression": "4*4"}', id="call_2")]),
        Reply(chunks=["16."]),
    )
    events, _ = await run(chat, Turn(prompt="2+2, squared?", visitor="visitor"))
    assert [type(event).__name__ for event in events] == [
        "RoundStarted",
        "ToolCalled",
        "ToolOutput",
        "RoundStarted",
        "ToolCalled",
        "ToolOutput",
        "RoundStarted",
        "TextDelta",
        "End",
    ]


async def test_an_upstream_failure_after_text_is_a_failure_after_text(
    chat: ChatService, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply(chunks=["Half", " an", " answer"], cut_after=2))
    events, report = await run(chat, Turn(prompt="hi", visitor="visitor"))
    assert events[:3] == [RoundStarted(), TextDelta("Half"), TextDelta(" an")]
    assert isinstance(events[-1], Error)
    assert report.outcome is TurnOutcome.FAILED_AFTER_TEXT


async def test_a_turn_left_by_its_visitor_mid_answer_is_abandoned(
    chat: ChatService, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply(chunks=["One", " two", " three"]))
    report = TurnReport()
    events = chat.run_turn(Turn(prompt="hi", visitor="visitor"), report)
    assert await anext(events) == RoundStarted()
    assert await anext(events) == TextDelta("One")
    await events.aclose()  # what the response does when the visitor disconnects
    assert report.outcome is TurnOutcome.ABANDONED


def test_a_report_nobody_ran_says_the_turn_never_started() -> None:
    assert TurnReport().outcome is TurnOutcome.NEVER_STARTED


async def test_an_upstream_failure_ends_the_turn_with_one_error_and_no_end(
    chat: ChatService, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply(status=500, error_body={"error": {"message": "boom"}}))
    events, report = await run(chat, Turn(prompt="hi", visitor="visitor"))
    round_started, error = events
    assert round_started == RoundStarted()
    assert isinstance(error, Error)
    assert "boom" not in error.message, "the upstream's own words are not shown to visitors"
    assert report.outcome is TurnOutcome.FAILED_BEFORE_TEXT


def test_a_turn_stopped_while_its_tools_run_keeps_its_text_but_no_unanswered_tool_call() -> None:
    """The model's API refuses a history with an assistant tool call and no tool answer after it."""
    call = {"id": "call_1", "type": "function", "function": {"name": "calculate", "arguments": "{}"}}
    asked = [Message("user", "what is 2+2?", 1), Message("assistant", "Let me work it out.", 2, tool_calls=[call])]
    kept = stopped_messages(asked, "Let me work it out.", turn_id="t1")
    assert [(m.role, m.content, m.tool_calls, m.stopped, m.turn_id) for m in kept] == [
        ("user", "what is 2+2?", None, False, None),
        ("assistant", "Let me work it out.", None, True, "t1"),  # the answer that ends the turn names it
    ]


def test_a_turn_stopped_mid_answer_keeps_the_text_so_far_marked_stopped() -> None:
    kept = stopped_messages([Message("user", "hi", 1)], "Hello th")
    assert [(m.role, m.content, m.stopped) for m in kept] == [("user", "hi", False), ("assistant", "Hello th", True)]
    assert '"stopped":true' in kept[1].to_json()
    assert Message.from_json(kept[1].to_json()).stopped
