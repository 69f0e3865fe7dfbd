"""The storage contract, run against both backends (SQLite file and a real redis-server)."""

from __future__ import annotations

import asyncio
import uuid

from portfolio_backend.store import CounterCheck, Message, Store

DAY = 86400
NOW = 1_800_000_000_000


def new_id() -> str:
    return str(uuid.uuid4())


def turn(prompt: str, answer: str, at: int = NOW) -> list[Message]:
    return [Message("user", prompt, at), Message("assistant", answer, at + 1)]


async def test_a_new_session_is_empty_and_owned_by_its_visitor(store: Store) -> None:
    session_id = new_id()
    meta = await store.create_session(session_id, "198.51.100.1", NOW, DAY)
    record = await store.load_session(session_id, NOW)
    assert record is not None
    assert record.meta.visitor == "198.51.100.1"
    assert (record.meta.created_at, record.meta.last_activity, record.meta.message_count) == (NOW, NOW, 0)
    assert record.messages == []
    assert meta.session_id == session_id


async def test_an_unknown_session_loads_as_none(store: Store) -> None:
    assert await store.load_session(new_id(), NOW) is None


async def test_appended_turns_come_back_in_order_with_activity_refreshed(store: Store) -> None:
    session_id = new_id()
    await store.create_session(session_id, "v", NOW, DAY)
    assert await store.append_turn(session_id, turn("Hello!", "Hi there!"), NOW + 5, DAY, 20)
    assert await store.append_turn(session_id, turn("Again", "Sure", NOW + 10), NOW + 20, DAY, 20)
    record = await store.load_session(session_id, NOW + 20)
    assert record is not None
    assert [m.content for m in record.messages] == ["Hello!", "Hi there!", "Again", "Sure"]
    assert record.meta.last_activity == NOW + 20
    assert record.meta.message_count == 4


async def test_history_keeps_only_the_last_messages(store: Store) -> None:
    session_id = new_id()
    await store.create_session(session_id, "v", NOW, DAY)
    for number in range(15):
        await store.append_turn(session_id, turn(f"q{number}", f"a{number}"), NOW, DAY, 20)
    record = await store.load_session(session_id, NOW)
    assert record is not None
    assert len(record.messages) == 20
    assert record.messages[0].content == "q5"
    assert record.messages[-1].content == "a14"


async def test_trimming_never_leaves_a_tool_message_without_its_call(store: Store) -> None:
    """Field note 3: drop whole turns, so history starts at a user message."""
    session_id = new_id()
    await store.create_session(session_id, "v", NOW, DAY)
    call = [{"id": "call_1", "type": "function", "function": {"name": "calculate", "arguments": "{}"}}]
    tool_turn = [
        Message("user", "calc", NOW),
        Message("assistant", "", NOW, tool_calls=call),
        Message("tool", "Result: 4", NOW, tool_call_id="call_1", name="calculate"),
        Message("assistant", "It is 4", NOW),
    ]
    for _ in range(6):  # 24 messages, keep 6: the cut would fall inside a turn
        await store.append_turn(session_id, tool_turn, NOW, DAY, 6)
    record = await store.load_session(session_id, NOW)
    assert record is not None
    assert record.messages[0].role == "user"
    assert [m.role for m in record.messages] == ["user", "assistant", "tool", "assistant"]
    assert record.messages[1].tool_calls == call
    assert record.messages[2].tool_call_id == "call_1"


async def test_eight_concurrent_turns_in_one_session_lose_nothing(store: Store) -> None:
    session_id = new_id()
    await store.create_session(session_id, "v", NOW, DAY)
    await asyncio.gather(*(store.append_turn(session_id, turn(f"q{n}", f"a{n}"), NOW, DAY, 20) for n in range(8)))
    record = await store.load_session(session_id, NOW)
    assert record is not None
    assert len(record.messages) == 16
    contents = [m.content for m in record.messages]
    for n in range(8):  # every turn is whole and its two messages are adjacent
        position = contents.index(f"q{n}")
        assert contents[position + 1] == f"a{n}"


async def test_a_session_expires_after_its_ttl_of_inactivity(store: Store) -> None:
    session_id = new_id()
    await store.create_session(session_id, "v", NOW, 60)
    if store.name == "redis":
        # Redis expires keys on its own clock: check the TTL it holds rather than waiting a minute
        ttl = await store.client.ttl(f"pb:s:{{{session_id}}}:meta")  # type: ignore[attr-defined]
        assert 0 < ttl <= 60
    else:
        assert await store.load_session(session_id, NOW + 59_000) is not None
        assert await store.load_session(session_id, NOW + 60_001) is None


async def test_appending_to_a_missing_session_stores_nothing(store: Store) -> None:
    session_id = new_id()
    assert not await store.append_turn(session_id, turn("q", "a"), NOW, DAY, 20)
    assert await store.load_session(session_id, NOW) is None


async def test_delete_removes_the_session_and_its_history(store: Store) -> None:
    session_id = new_id()
    await store.create_session(session_id, "v", NOW, DAY)
    await store.append_turn(session_id, turn("q", "a"), NOW, DAY, 20)
    assert await store.delete_session(session_id)
    assert await store.load_session(session_id, NOW) is None
    assert not await store.delete_session(session_id)
    assert await store.list_sessions("v", NOW) == []


async def test_visitors_see_only_their_own_sessions_newest_first(store: Store) -> None:
    mine = [new_id(), new_id()]
    await store.create_session(mine[0], "alice", NOW, DAY)
    await store.create_session(mine[1], "alice", NOW + 1, DAY)
    await store.create_session(new_id(), "bob", NOW, DAY)
    listed = await store.list_sessions("alice", NOW + 2)
    assert [meta.session_id for meta in listed] == [mine[1], mine[0]]


async def test_the_admin_listing_pages_through_every_session(store: Store) -> None:
    created = {new_id() for _ in range(7)}
    for session_id in created:
        await store.create_session(session_id, "v", NOW, DAY)
    seen: set[str] = set()
    cursor = ""
    for _ in range(20):
        cursor, page = await store.list_all_sessions(cursor, 3, NOW)
        seen |= {meta.session_id for meta in page}
        if not cursor:
            break
    assert seen == created


async def test_counters_charge_all_or_nothing(store: Store) -> None:
    visitor = CounterCheck("chat:v:0", 2, 60)
    global_ = CounterCheck("global:all:0", 3, 60)
    assert (await store.hit([visitor, global_])).allowed
    assert (await store.hit([visitor, global_])).allowed
    refused = await store.hit([visitor, global_])
    assert not refused.allowed
    assert refused.refused == 0
    assert refused.counts == (2, 2)
    # the refused check charged nothing, so the global counter still has room for another visitor
    other = await store.hit([CounterCheck("chat:w:0", 2, 60), global_])
    assert other.allowed
    assert other.counts == (1, 3)


async def test_release_gives_one_back_and_never_goes_negative(store: Store) -> None:
    check = CounterCheck("streams:v", 1, 600)
    assert (await store.hit([check])).allowed
    assert not (await store.hit([check])).allowed
    await store.release("streams:v")
    await store.release("streams:v")
    assert await store.peek("streams:v") == 0
    assert (await store.hit([check])).allowed


async def test_concurrent_hits_are_exact(store: Store) -> None:
    check = CounterCheck("chat:crowd:0", 10, 60)
    results = await asyncio.gather(*(store.hit([check]) for _ in range(40)))
    assert sum(result.allowed for result in results) == 10
    assert await store.peek("chat:crowd:0") == 10


async def test_append_can_release_a_counter_in_the_same_step(store: Store) -> None:
    session_id = new_id()
    await store.create_session(session_id, "v", NOW, DAY)
    await store.hit([CounterCheck("streams:v", 3, 600)])
    assert await store.append_turn(session_id, turn("q", "a"), NOW, DAY, 20, release="streams:v")
    assert await store.peek("streams:v") == 0
