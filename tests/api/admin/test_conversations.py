"""The owner reads conversations as transcripts, page by page, and the leads visitors left."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portfolio_backend.settings import Settings

TOKEN = "owner-token-0123456789"
GOOD = {"Authorization": f"Bearer {TOKEN}"}


async def test_conversations_page_through_and_open_as_transcripts(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(admin_token=TOKEN)) as client:
        ids = [(await client.post("/session")).json()["session_id"] for _ in range(3)]
        await client.post("/stream", json={"prompt": "What is 6 * 7?", "session_id": ids[0]})
        seen: list[str] = []
        cursor = ""
        for _ in range(10):
            page = (
                await client.get("/admin/api/conversations", params={"cursor": cursor, "count": 2}, headers=GOOD)
            ).json()
            assert len(page["conversations"]) <= 2
            seen += [item["session_id"] for item in page["conversations"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        transcript = (await client.get(f"/admin/api/conversations/{ids[0]}", headers=GOOD)).json()
        missing = await client.get("/admin/api/conversations/3f1c8f6e-1d7a-4c8a-9a55-7f4f6c1e2b10", headers=GOOD)
        garbage = await client.get("/admin/api/conversations/not-a-session", headers=GOOD)
    assert sorted(seen) == sorted(ids)
    roles = [message["role"] for message in transcript["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert transcript["messages"][0]["content"] == "What is 6 * 7?"
    assert transcript["messages"][1]["tool_calls"][0]["function"]["name"] == "calculate"
    assert "42" in transcript["messages"][2]["content"]
    assert missing.status_code == 404
    assert garbage.status_code == 404
