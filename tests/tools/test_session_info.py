"""get_session_info: bound to the conversation's own session; metadata only, never content."""

from __future__ import annotations

import time
from collections.abc import Callable

from portfolio_backend.settings import Settings
from portfolio_backend.store import Message, Stores

from .conftest import MakeSettings, ToolBench

SECRET = "my card number is 4111-1111"


async def _session(stores: Stores, session_id: str, turns: int) -> None:
    now = int(time.time() * 1000)
    await stores.sessions.create(session_id, "visitor-1", now, 3600)
    for turn in range(turns):
        messages = [
            Message("user", f"{SECRET} (turn {turn})", now),
            Message("assistant", f"Noted the secret {SECRET}", now),
        ]
        await stores.sessions.append_turn(session_id, messages, now, 3600, 100)


async def test_reports_its_own_session_even_when_the_model_names_another(
    stores: Stores, tool_settings: MakeSettings, bench_for: Callable[[Settings, Stores], ToolBench]
) -> None:
    await _session(stores, "session-mine", turns=1)
    await _session(stores, "session-other", turns=3)
    bench = bench_for(tool_settings(), stores)

    ok, text = await bench.call("get_session_info", {"session_id": "session-other"}, session_id="session-mine")

    assert ok
    assert "2 messages stored" in text  # mine has 2; the other has 6
    assert "session-other" not in text


async def test_reports_metadata_only_never_message_content(
    stores: Stores, tool_settings: MakeSettings, bench_for: Callable[[Settings, Stores], ToolBench]
) -> None:
    await _session(stores, "session-mine", turns=2)
    bench = bench_for(tool_settings(), stores)

    ok, text = await bench.call("get_session_info", {}, session_id="session-mine")

    assert ok
    assert text.startswith("Session started ")
    assert "4 messages stored" in text
    assert "4111" not in text
    assert "card" not in text


async def test_without_a_session_it_says_so(bench: ToolBench) -> None:
    ok, text = await bench.call("get_session_info", {"session_id": "session-other"}, session_id=None)
    assert ok
    assert text.startswith("This conversation has no session")


async def test_a_deleted_session_is_an_error(
    stores: Stores, tool_settings: MakeSettings, bench_for: Callable[[Settings, Stores], ToolBench]
) -> None:
    await _session(stores, "session-mine", turns=1)
    await stores.sessions.delete("session-mine")
    bench = bench_for(tool_settings(), stores)

    assert await bench.call("get_session_info", {}, session_id="session-mine") == (
        False,
        "Error: The session has expired or was deleted",
    )
