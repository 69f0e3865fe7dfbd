"""The `sources` of an answer are stored with the turn, on every store, and the history shows them."""

from __future__ import annotations

import httpx2

from ..sse import parse_events


async def test_sources_are_stored_with_the_answer_and_shown_in_the_history(client: httpx2.AsyncClient) -> None:
    session = (await client.post("/session")).json()["session_id"]
    grounded = parse_events(
        (await client.post("/stream", json={"prompt": "What are Alex's rates?", "session_id": session})).text
    )
    plain = parse_events((await client.post("/stream", json={"prompt": "Hello!", "session_id": session})).text)
    assert [e["type"] for e in grounded][-2:] == ["sources", "end"]  # after the answer's text
    assert "sources" not in {e["type"] for e in plain}

    history = (await client.get(f"/session/{session}")).json()
    assert history["message_count"] == 4
    messages = history["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[1]["sources"] == grounded[-2]["sources"]
    # every other message keeps its documented shape exactly: an answer also names its turn
    for message in (messages[0], messages[2]):
        assert set(message) == {"role", "content", "timestamp"}
    assert set(messages[3]) == {"role", "content", "timestamp", "turn_id"}
    assert {"role", "content", "timestamp"} <= set(messages[1])
