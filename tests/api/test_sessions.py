"""Session endpoints with their documented JSON shapes, on both stores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2

from portfolio_backend.settings import Settings


async def test_create_session_has_the_seed_shape(client: httpx2.AsyncClient) -> None:
    body = (await client.post("/session")).json()
    assert body["message"] == "Session created successfully"
    assert body["ttl"] == "24 hours"
    assert len(body["session_id"]) == 36


async def test_session_history_has_the_seed_shape(client: httpx2.AsyncClient) -> None:
    session_id = (await client.post("/session")).json()["session_id"]
    await client.post("/stream", json={"prompt": "Hello!", "session_id": session_id})
    body = (await client.get(f"/session/{session_id}")).json()
    assert set(body) == {"session_id", "created_at", "last_activity", "message_count", "messages"}
    assert body["message_count"] == 2
    assert [message["role"] for message in body["messages"]] == ["user", "assistant"]
    assert body["messages"][0] == {"role": "user", "content": "Hello!", "timestamp": body["messages"][0]["timestamp"]}
    assert body["last_activity"] >= body["created_at"]


async def test_delete_session_then_it_is_gone(client: httpx2.AsyncClient) -> None:
    session_id = (await client.post("/session")).json()["session_id"]
    deleted = await client.delete(f"/session/{session_id}")
    assert deleted.json() == {"session_id": session_id, "message": "Session deleted successfully"}
    assert (await client.get(f"/session/{session_id}")).status_code == 404
    assert (await client.delete(f"/session/{session_id}")).status_code == 404


async def test_malformed_session_ids_are_404_not_500(client: httpx2.AsyncClient) -> None:
    for bad in ("nope", "1' OR '1'='1", "%00", "a" * 300):
        response = await client.get(f"/session/{bad}")
        assert response.status_code == 404, bad
        assert response.json()["error"] == "not_found"


async def test_sessions_lists_only_the_callers_own(make_settings: Callable[..., Settings], client_for: Any) -> None:
    settings = make_settings()
    async with client_for(settings, ip="198.51.100.1") as alice:
        mine = (await alice.post("/session")).json()["session_id"]
    async with client_for(settings, ip="198.51.100.2") as bob:
        await bob.post("/session")
        theirs = (await bob.get("/sessions")).json()
    async with client_for(settings, ip="198.51.100.1") as alice:
        listed = (await alice.get("/sessions")).json()
    assert listed["ip"] == "198.51.100.1"
    assert listed["total_sessions"] == 1
    assert listed["sessions"][0]["session_id"] == mine
    assert set(listed["sessions"][0]) == {"session_id", "created_at", "last_activity", "message_count"}
    assert mine not in {session["session_id"] for session in theirs["sessions"]}


async def test_every_session_needs_the_admin_token(make_settings: Callable[..., Settings], client_for: Any) -> None:
    async with client_for(make_settings(admin_token="s3cret-admin")) as client:
        for _ in range(3):
            await client.post("/session")
        assert (await client.get("/sessions", params={"all": "true"})).status_code == 401
        wrong = await client.get("/sessions", params={"all": "true"}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert "s3cret" not in wrong.text
        ok = await client.get("/sessions", params={"all": "true"}, headers={"Authorization": "Bearer s3cret-admin"})
        assert ok.status_code == 200
        assert ok.json()["total_sessions"] == 3


async def test_admin_views_are_off_without_a_token(client: httpx2.AsyncClient) -> None:
    response = await client.get("/sessions", params={"all": "true"}, headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    assert "ADMIN_TOKEN" in response.json()["detail"]


async def test_the_history_survives_a_restart_of_the_service(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    settings = make_settings()
    async with client_for(settings) as client:
        session_id = (await client.post("/session")).json()["session_id"]
        await client.post("/stream", json={"prompt": "remember me", "session_id": session_id})
    async with client_for(settings) as client:
        body = (await client.get(f"/session/{session_id}")).json()
    assert body["messages"][0]["content"] == "remember me"


async def test_reminders_created_in_a_session_are_listed_with_it(client: httpx2.AsyncClient) -> None:
    from datetime import UTC, datetime, timedelta

    session_id = (await client.post("/session")).json()["session_id"]
    due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    created = await client.post(
        "/tools/test",
        json={
            "tool_name": "create_reminder",
            "arguments": {"title": "Call Ada", "datetime": due},
            "session_id": session_id,
        },
    )
    assert created.json()["success"] is True
    listed = (await client.get(f"/session/{session_id}/reminders")).json()
    assert listed["total"] == 1
    assert listed["reminders"][0]["title"] == "Call Ada"
    assert (await client.get("/session/3f1c8f6e-1d7a-4c8a-9a55-7f4f6c1e2b10/reminders")).status_code == 404


async def test_a_garbage_admin_cursor_is_400_not_500(
    make_settings: Callable[..., Settings], client_for: Any, store_kind: str
) -> None:
    async with client_for(make_settings(admin_token="s3cret-admin")) as client:
        response = await client.get(
            "/sessions", params={"all": "true", "cursor": "abc"}, headers={"Authorization": "Bearer s3cret-admin"}
        )
    if store_kind == "sqlite":  # its cursors are session ids: any string pages on from there
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert "cursor" in response.json()["detail"]
