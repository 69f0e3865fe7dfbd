"""The chats contract (AI SDK chat ids bound to sessions), on SQLite, Redis and Redis Cluster."""

from __future__ import annotations

from portfolio_backend.store import Stores

DAY = 86400
NOW = 1_800_000_000_000


async def test_a_chat_is_bound_to_a_session_per_visitor(stores: Stores) -> None:
    assert await stores.chats.find("alice", "chat-1", NOW, DAY) is None
    await stores.chats.bind("alice", "chat-1", "session-a", NOW, DAY)
    await stores.chats.bind("bob", "chat-1", "session-b", NOW, DAY)
    assert await stores.chats.find("alice", "chat-1", NOW, DAY) == "session-a"
    assert await stores.chats.find("bob", "chat-1", NOW, DAY) == "session-b"
    assert await stores.chats.find("alice", "chat-2", NOW, DAY) is None


async def test_binding_a_chat_again_replaces_its_session(stores: Stores) -> None:
    await stores.chats.bind("alice", "chat-1", "expired-session", NOW, DAY)
    await stores.chats.bind("alice", "chat-1", "new-session", NOW + 1, DAY)
    assert await stores.chats.find("alice", "chat-1", NOW + 1, DAY) == "new-session"
