"""The estimate used when a server reports no usage."""

from __future__ import annotations

from portfolio_backend.llm import ToolCall
from portfolio_backend.usage import estimate_prompt, estimate_round, estimate_tokens


def test_bytes_not_characters_so_cjk_is_not_undercounted() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    assert estimate_tokens("東京の天気") == 4  # 15 bytes: o200k gives 4


def test_a_round_counts_messages_tools_text_and_tool_calls() -> None:
    messages = [{"role": "system", "content": "x" * 40}, {"role": "user", "content": "y" * 8}]
    bare = estimate_prompt(messages, [])
    assert bare == 3 + (4 + 10) + (4 + 2)
    assert estimate_prompt(messages, [{"type": "function", "function": {"name": "f"}}]) > bare
    usage = estimate_round(messages, [], "a" * 8, [ToolCall("c1", "calc", '{"e":"1"}')])
    assert usage.estimated
    assert usage.completion_tokens == 2 + 4
