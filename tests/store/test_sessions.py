"""The sessions contract, on SQLite, Redis and Redis Cluster (the `stores` fixture)."""

from __future__ import annotations

import asyncio
import time
import uuid

from portfolio_backend.store import CounterCheck, Message, Stores

DAY = 86400
NOW = 1_800_000_000_000


def new_id() -> str:
    return str(uuid.uuid4())


def turn(prompt: str, answer: str, at: int = NOW) -> list[Message]:
    return [Message("user", prompt, at), Message("assistant", answer, at + 1)]


async def test_a_new_session_is_empty_and_owned_by_its_visitor(stores: Stores) -> None:
    session_id = new_id()
    meta = await stores.sessions.create(session_id, "198.51.100.1", NOW, DAY)
    record = await stores.sessions.load(session_id, NOW)
    assert record is not None
    assert record.meta.visitor == "198.51.100.1"
    assert (record.meta.created_at, record.meta.last_activity, record.meta.message_count) == (NOW, NOW, 0)
    assert record.messages == []
    assert meta.session_id == session_id


async def test_an_unknown_session_loads_as_none(stores: Stores) -> None:
    assert await stores.sessions.load(new_id(), NOW) is None


async def test_appended_turns_come_back_in_order_with_activity_refreshed(stores: Stores) -> None:
    session_id = new_id()
    await stores.sessions.create(session_id, "v", NOW, DAY)
    assert await stores.sessions.append_turn(session_id, turn("Hello!", "Hi there!"), NOW + 5, DAY, 20)
    assert await stores.sessions.append_turn(session_id, turn("Again", "Sure", NOW + 10), NOW + 20, DAY, 20)
    record = await stores.sessions.load(session_id, NOW + 20)
    assert record is not None
    assert [m.content for m in record.messages] == ["Hello!", "Hi there!", "Again", "Sure"]
    assert record.meta.last_activity == NOW + 20
    assert record.meta.message_count == 4


async def test_every_field_of_a_message_comes_back(stores: Stores) -> None:
    session_id = new_id()
    await stores.sessions.create(session_id, "v", NOW, DAY)
    call = [{"id": "call_1", "type": "function", "function": {"name": "calculate", "arguments": '{"x":"ü"}'}}]
    sent = [
        Message("user", 'ünïcode ✓ and "quotes"', NOW, client_id="Zx8kQ2mP0aB7cD1e"),
        Message("assistant", "", NOW + 1, tool_calls=call),
        Message("tool", "Result: 4", NOW + 2, tool_call_id="call_1", name="calculate"),
        Message("assistant", "It is 4", NOW + 3),
    ]
    assert await stores.sessions.append_turn(session_id, sent, NOW, DAY, 20)
    record = await stores.sessions.load(session_id, NOW)
    assert record is not None
    assert record.messages == sent


async def test_history_keeps_only_the_last_messages(stores: Stores) -> None:
    session_id = new_id()
    await stores.sessions.create(session_id, "v", NOW, DAY)
    for number in range(15):
        await stores.sessions.append_turn(session_id, turn(f"q{number}", f"a{number}"), NOW, DAY, 20)
    record = await stores.sessions.load(session_id, NOW)
    assert record is not None
    assert len(record.messages) == 20
    assert record.messages[0].content == "q5"
    assert record.messages[-1].content == "a14"


async def test_trimming_never_leaves_a_tool_message_without_its_call(stores: Stores) -> None:
    """Drop whole turns, so history starts at a user message."""
    session_id = new_id()
    await stores.sessions.create(session_id, "v", NOW, DAY)
    call = [{"id": "call_1", "type": "function", "function": {"name": "calculate", "arguments": "{}"}}]
    tool_turn = [
        Message("user", "calc", NOW),
        Message("assistant", "", NOW, tool_calls=call),
        Message("tool", "Result: 4", NOW, tool_call_id="call_1", name="calculate"),
        Message("assistant", "It is 4", NOW),
    ]
    for _ in range(6):  # 24 messages, keep 6: the cut would fall inside a turn
        await stores.sessions.append_turn(session_id, tool_turn, NOW, DAY, 6)
    record = await stores.sessions.load(session_id, NOW)
    assert record is not None
    assert record.messages[0].role == "user"
    assert [m.role for m in record.messages] == ["user", "assistant", "tool", "assistant"]
    assert record.messages[1].tool_calls == call
    assert record.messages[2].tool_call_id == "call_1"
    assert record.meta.message_count == 4


async def test_eight_concurrent_turns_in_one_session_lose_nothing(stores: Stores) -> None:
    session_id = new_id()
    await stores.sessions.create(session_id, "v", NOW, DAY)
    await asyncio.gather(
        *(stores.sessions.append_turn(session_id, turn(f"q{n}", f"a{n}"), NOW, DAY, 20) for n in range(8))
    )
    record = await stores.sessions.load(session_id, NOW)
    assert record is not None
    assert len(record.messages) == 16
    contents = [m.content for m in record.messages]
    for n in range(8):  # every turn is whole and its two messages are adjacent
        position = contents.index(f"q{n}")
        assert contents[position + 1] == f"a{n}"


async def test_a_session_expires_after_its_ttl_of_inactivity(stores: Stores) -> None:
    # Redis expires keys on its own clock, so this runs on the real one: a 1 s TTL, then wait it out.
    session_id = new_id()
    created = time.monotonic()
    await stores.sessions.create(session_id, "v", int(time.time() * 1000), 1)
    record = await stores.sessions.load(session_id, int(time.time() * 1000))
    assert record is not None or time.monotonic() - created >= 1  # there until its TTL runs out
    deadline = created + 10
    while await stores.sessions.load(session_id, int(time.time() * 1000)) is not None:
        assert time.monotonic() < deadline, "the session outlived its TTL by 9 s"
        await asyncio.sleep(0.05)  # polling the clock-driven expiry itself, not synchronising tasks
    assert time.monotonic() - created >= 0.99
    assert not await stores.sessions.append_turn(session_id, turn("q", "a"), int(time.time() * 1000), DAY, 20)


async def test_appending_to_a_missing_session_stores_nothing(stores: Stores) -> None:
    session_id = new_id()
    assert not await stores.sessions.append_turn(session_id, turn("q", "a"), NOW, DAY, 20)
    assert await stores.sessions.load(session_id, NOW) is None


async def test_delete_removes_the_session_and_its_history(stores: Stores) -> None:
    session_id = new_id()
    await stores.sessions.create(session_id, "v", NOW, DAY)
    await stores.sessions.append_turn(session_id, turn("q", "a"), NOW, DAY, 20)
    assert await stores.sessions.delete(session_id)
    assert await stores.sessions.load(session_id, NOW) is None
    assert not await stores.sessions.delete(session_id)
    assert await stores.sessions.list_for("v", NOW) == []


async def test_visitors_see_only_their_own_sessions_newest_first(stores: Stores) -> None:
    mine = [new_id(), new_id()]
    await stores.sessions.create(mine[0], "alice", NOW, DAY)
    await stores.sessions.create(mine[1], "alice", NOW + 1, DAY)
    await stores.sessions.create(new_id(), "bob", NOW, DAY)
    listed = await stores.sessions.list_for("alice", NOW + 2)
    assert [meta.session_id for meta in listed] == [mine[1], mine[0]]


async def test_the_admin_listing_pages_through_every_session(stores: Stores) -> None:
    created = {new_id() for _ in range(7)}
    for session_id in created:
        await stores.sessions.create(session_id, "v", NOW, DAY)
    seen: set[str] = set()
    cursor = ""
    for _ in range(20):
        cursor, page = await stores.sessions.list_all(cursor, 3, NOW)
        seen |= {meta.session_id for meta in page}
        if not cursor:
            break
    assert seen == created


async def test_append_can_release_a_counter_in_the_same_step(stores: Stores) -> None:
    """A turn's settlement: its history and its open-stream slot in one round trip."""
    session_id = new_id()
    await stores.sessions.create(session_id, "v", NOW, DAY)
    await stores.counters.hit([CounterCheck("streams:v", 3, 600)])
    appended, _ = await stores.backend.run_steps(
        [
            stores.sessions.append_turn_step(session_id, turn("q", "a"), NOW, DAY, 20),
            stores.counters.release_step(["streams:v"]),
        ]
    )
    assert appended
    assert await stores.counters.peek("streams:v") == 0


async def test_a_turn_on_a_missing_session_still_releases_its_counter(stores: Stores) -> None:
    await stores.counters.hit([CounterCheck("streams:v", 3, 600)])
    appended, _ = await stores.backend.run_steps(
        [
            stores.sessions.append_turn_step(new_id(), turn("q", "a"), NOW, DAY, 20),
            stores.counters.release_step(["streams:v"]),
        ]
    )
    assert not appended
    assert await stores.counters.peek("streams:v") == 0


async def test_a_turn_can_replace_the_last_one_in_the_same_step(stores: Stores) -> None:
    session_id = new_id()
    await stores.sessions.create(session_id, "v", NOW, DAY)
    await stores.sessions.append_turn(session_id, turn("First?", "One."), NOW, DAY, 20)
    tool_turn = [
        Message("user", "Second?", NOW + 10),
        Message("assistant", "", NOW + 11, tool_calls=[{"id": "c1", "type": "function"}]),
        Message("tool", "42", NOW + 12, tool_call_id="c1", name="calculate"),
        Message("assistant", "Two.", NOW + 13),
    ]
    await stores.sessions.append_turn(session_id, tool_turn, NOW + 10, DAY, 20)
    replaced = await stores.sessions.append_turn(
        session_id, turn("Second?", "Three.", NOW + 20), NOW + 20, DAY, 20, replace_last_turn=True
    )
    assert replaced
    record = await stores.sessions.load(session_id, NOW + 20)
    assert record is not None
    assert [(m.role, m.content) for m in record.messages] == [
        ("user", "First?"),
        ("assistant", "One."),
        ("user", "Second?"),
        ("assistant", "Three."),
    ]
    assert record.meta.message_count == 4


async def test_replacing_the_only_turn_leaves_just_the_new_one(stores: Stores) -> None:
    session_id = new_id()
    await stores.sessions.create(session_id, "v", NOW, DAY)
    await stores.sessions.append_turn(session_id, turn("Only?", "Old."), NOW, DAY, 20)
    await stores.sessions.append_turn(session_id, turn("Only?", "New."), NOW + 1, DAY, 20, replace_last_turn=True)
    record = await stores.sessions.load(session_id, NOW + 1)
    assert record is not None
    assert [m.content for m in record.messages] == ["Only?", "New."]


async def test_no_admin_page_is_empty_while_sessions_remain_unlisted(stores: Stores) -> None:
    """Regression (issue 25): on Redis the listing's SCAN went a few keys per page, so among a
    store's other keys (quota counters here) the console's first pages came back empty."""
    for n in range(300):
        await stores.counters.hit([CounterCheck(f"chat:visitor-{n}", 10, 600)])
    created = {new_id() for _ in range(4)}
    for session_id in created:
        await stores.sessions.create(session_id, "v", NOW, DAY)
    seen: set[str] = set()
    cursor = ""
    for _ in range(20):
        cursor, page = await stores.sessions.list_all(cursor, 2, NOW)
        assert len(page) <= 2
        if seen != created:
            assert page, f"an empty page while {len(created - seen)} sessions remain unlisted"
        seen |= {meta.session_id for meta in page}
        if not cursor:
            break
    assert seen == created
