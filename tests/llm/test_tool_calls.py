"""Tool-call assembly from streamed fragments, including the shapes compatible servers send.

Some OpenAI-compatible servers stream tool-call deltas without `index` or `id`, repeat the name,
or send empty argument fragments; naive assembly then loses arguments or crashes
(openai-python #2806, litellm PR #39288, codex #7517).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from portfolio_backend.llm.tool_calls import ToolCallAssembler


def fragment(
    *, index: int | None = None, id: str | None = None, name: str | None = None, arguments: str | None = None
) -> dict[str, Any]:
    """One `tool_calls` entry as the server sent it: absent keys stay absent."""
    entry: dict[str, Any] = {}
    if index is not None:
        entry["index"] = index
    if id is not None:
        entry["id"] = id
        entry["type"] = "function"
    function = {key: value for key, value in (("name", name), ("arguments", arguments)) if value is not None}
    if function:
        entry["function"] = function
    return entry


def assemble(*fragments: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    assembler = ToolCallAssembler()
    for entry in fragments:
        assembler.add(entry)
    return [(call.name, json.loads(call.arguments)) for call in assembler.calls()]


def test_openai_shape_index_on_every_fragment_id_and_name_on_the_first() -> None:
    assembler = ToolCallAssembler()
    for entry in (
        fragment(index=0, id="call_a", name="get_weather", arguments=""),
        fragment(index=0, arguments='{"loc'),
        fragment(index=0, arguments='ation": "Par'),
        fragment(index=0, arguments='is"}'),
    ):
        assembler.add(entry)
    [call] = assembler.calls()
    assert (call.id, call.name, json.loads(call.arguments)) == ("call_a", "get_weather", {"location": "Paris"})


def test_several_calls_interleaved_by_index_keep_their_own_arguments_and_order() -> None:
    assert assemble(
        fragment(index=0, id="call_a", name="get_weather", arguments=""),
        fragment(index=1, id="call_b", name="calculate", arguments=""),
        fragment(index=0, arguments='{"location": '),
        fragment(index=1, arguments='{"expression": '),
        fragment(index=1, arguments='"2 + 2"}'),
        fragment(index=0, arguments='"Oslo"}'),
    ) == [("get_weather", {"location": "Oslo"}), ("calculate", {"expression": "2 + 2"})]


def test_fragments_without_index_are_matched_by_id() -> None:
    assert assemble(
        fragment(id="call_a", name="get_weather", arguments='{"location"'),
        fragment(id="call_b", name="calculate", arguments='{"expression"'),
        fragment(id="call_a", arguments=': "Rome"}'),
        fragment(id="call_b", arguments=': "3 * 3"}'),
    ) == [("get_weather", {"location": "Rome"}), ("calculate", {"expression": "3 * 3"})]


def test_fragments_without_index_or_id_continue_the_last_call() -> None:
    assert assemble(
        fragment(name="get_weather", arguments='{"loc'),
        fragment(arguments='ation": "Lima"}'),
        fragment(name="calculate"),
        fragment(arguments='{"expression": "1 + 1"}'),
    ) == [("get_weather", {"location": "Lima"}), ("calculate", {"expression": "1 + 1"})]


@pytest.mark.parametrize("empty", [fragment(index=0, arguments=""), fragment(index=0), {"index": 0, "function": None}])
def test_empty_argument_fragments_change_nothing(empty: dict[str, Any]) -> None:
    assert assemble(
        fragment(index=0, id="call_a", name="get_weather"),
        empty,
        fragment(index=0, arguments='{"location": "Kyiv"}'),
        empty,
    ) == [("get_weather", {"location": "Kyiv"})]


def test_a_call_whose_arguments_never_came_gets_an_empty_object() -> None:
    assembler = ToolCallAssembler()
    assembler.add(fragment(index=0, id="call_a", name="get_current_time", arguments=""))
    [call] = assembler.calls()
    assert call.arguments == "{}"


def test_a_name_repeated_on_every_fragment_is_kept_once() -> None:
    assert assemble(
        fragment(index=0, id="call_a", name="calculate", arguments='{"expression": '),
        fragment(index=0, id="call_a", name="calculate", arguments='"7 - 2"}'),
    ) == [("calculate", {"expression": "7 - 2"})]


def test_a_name_split_over_fragments_is_joined() -> None:
    assert assemble(
        fragment(index=0, id="call_a", name="get_", arguments=""),
        fragment(index=0, name="weather", arguments='{"location": "Baku"}'),
    ) == [("get_weather", {"location": "Baku"})]


def test_calls_without_an_id_get_distinct_generated_ones() -> None:
    assembler = ToolCallAssembler()
    assembler.add(fragment(index=0, name="get_current_time", arguments="{}"))
    assembler.add(fragment(index=1, name="get_current_time", arguments="{}"))
    first, second = assembler.calls()
    assert first.id.startswith("call_")
    assert second.id.startswith("call_")
    assert first.id != second.id


def test_a_call_that_never_named_its_tool_is_dropped() -> None:
    assert assemble(fragment(index=0, id="call_a", arguments='{"x": 1}')) == []


def test_no_fragments_no_calls() -> None:
    assert ToolCallAssembler().calls() == []


def test_parallel_calls_that_all_say_index_0_are_told_apart_by_id() -> None:
    # Ollama streams index 0 for every call of a parallel batch, each with its own id (ollama #15457)
    assert assemble(
        fragment(index=0, id="call_a", name="get_weather", arguments='{"location": "Nice"}'),
        fragment(index=0, id="call_b", name="get_weather", arguments='{"location": '),
        fragment(index=0, arguments='"Bern"}'),
    ) == [("get_weather", {"location": "Nice"}), ("get_weather", {"location": "Bern"})]
