"""The owner reads conversations as transcripts, page by page, and the leads visitors left."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portfolio_backend.settings import Settings
from portfolio_backend.store import Stores

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


async def test_a_conversation_whose_session_is_gone_is_still_there_for_review(
    make_settings: Callable[..., Settings], client_for: Any, stores: Stores
) -> None:
    settings = make_settings(admin_token=TOKEN, transcript_retention_days=7)
    owner = {"Authorization": f"Bearer {TOKEN}"}
    async with client_for(settings) as client:
        session_id = (await client.post("/session")).json()["session_id"]
        assert (
            await client.post("/stream", json={"prompt": "Calculate 6 * 7", "session_id": session_id})
        ).status_code == 200
        await stores.sessions.delete(session_id)  # as if it expired: the session alone goes
        kept = (await client.get("/admin/api/transcripts", headers=owner)).json()["transcripts"]
        opened = await client.get(f"/admin/api/conversations/{session_id}", headers=owner)
        visitor_view = await client.get(f"/session/{session_id}")

    assert [item["session_id"] for item in kept] == [session_id]
    assert kept[0]["expires_at"] - kept[0]["last_activity"] == 7 * 86_400_000
    assert opened.status_code == 200
    assert opened.json()["messages"][0]["content"] == "Calculate 6 * 7"
    assert opened.json()["kept_until"] == kept[0]["expires_at"]
    assert visitor_view.status_code == 404  # the visitor's 24-hour session is over
