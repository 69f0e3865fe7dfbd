"""The turn-buffer contract, on SQLite, Redis and Redis Cluster (the `stores` fixture)."""

from __future__ import annotations

import asyncio

from portfolio_backend.clock import now_ms
from portfolio_backend.store import Stores, TurnAppend, TurnControl

TTL = 60


def events(first: int, last: int) -> list[tuple[int, str]]:
    return [(seq, f'{{"n":{seq}}}') for seq in range(first, last + 1)]


async def append(
    stores: Stores,
    turn_id: str,
    batch: list[tuple[int, str]],
    *,
    ended: bool,
    now: int,
    ttl_seconds: int,
    max_events: int,
    begin: str | None = None,
) -> TurnControl:
    """One turn's append: an `append_many` of one, as the flusher makes for each running turn."""
    [control] = await stores.turns.append_many(
        [TurnAppend(turn_id, batch, ended, begin)], now=now, ttl_seconds=ttl_seconds, max_events=max_events
    )
    return control


async def begin(stores: Stores, turn_id: str, session_id: str) -> TurnControl:
    """A turn's first append, with no events yet: its buffer exists and is the session's running turn."""
    return await append(
        stores, turn_id, [], ended=False, now=now_ms(), ttl_seconds=TTL, max_events=100, begin=session_id
    )


async def test_the_first_append_begins_the_buffer_with_its_events_in_one_step(stores: Stores) -> None:
    control = await append(
        stores, "t1", events(1, 3), ended=False, now=now_ms(), ttl_seconds=TTL, max_events=100, begin="s1"
    )
    assert control == TurnControl(stop_requested=False, last_follow_ms=0)
    page = await stores.turns.read("t1", 0, 10, now_ms())
    assert page is not None
    assert page.session_id == "s1"
    assert page.events == events(1, 3)
    assert await stores.turns.running_turn("s1") == "t1"
    # a retried first append (its answer was lost) neither begins it again nor adds anything twice
    await append(stores, "t1", events(1, 4), ended=False, now=now_ms(), ttl_seconds=TTL, max_events=100, begin="s1")
    page = await stores.turns.read("t1", 0, 10, now_ms())
    assert page is not None
    assert page.events == events(1, 4)


async def test_one_call_appends_for_several_turns_each_on_its_own(stores: Stores) -> None:
    """A process flushes all its running turns at once: each gets its own events and answer."""
    await begin(stores, "t1", "s1")
    await stores.turns.request_stop("t1")
    controls = await stores.turns.append_many(
        [
            TurnAppend("t1", events(1, 2)),
            TurnAppend("t2", events(1, 3), begin="s2"),
            TurnAppend("t3", events(1, 1), ended=True, begin="s3"),
            TurnAppend("gone", events(1, 1)),  # expired, or never begun: nobody can follow it
        ],
        now=now_ms(),
        ttl_seconds=TTL,
        max_events=100,
    )

    assert [(control.stop_requested, control.gone) for control in controls] == [
        (True, False),
        (False, False),
        (False, False),
        (False, True),
    ]
    pages = [await stores.turns.read(turn_id, 0, 10, now_ms()) for turn_id in ("t1", "t2", "t3", "gone")]
    assert [(page.session_id, page.events, page.ended) for page in pages if page is not None] == [
        ("s1", events(1, 2), False),
        ("s2", events(1, 3), False),
        ("s3", events(1, 1), True),
    ]
    assert pages[3] is None
    assert [await stores.turns.running_turn(s) for s in ("s1", "s2", "s3")] == ["t1", "t2", None]


async def test_a_page_says_when_the_buffer_expires_and_whether_the_turn_finished(stores: Stores) -> None:
    """What tells a follower that the process running the turn is gone: each append sets the
    expiry TTL ahead, and a turn that has not finished is appended to every SYNC_SECONDS."""
    appended_at = now_ms()
    await append(stores, "t1", events(1, 3), ended=False, now=appended_at, ttl_seconds=TTL, max_events=100, begin="s1")

    running = await stores.turns.read("t1", 0, 1, now_ms())
    assert running is not None
    assert appended_at + TTL * 1000 - 1000 <= running.expires_at <= now_ms() + TTL * 1000
    assert not running.finished

    await append(stores, "t1", events(4, 4), ended=True, now=now_ms(), ttl_seconds=TTL, max_events=100)
    first_page = await stores.turns.read("t1", 0, 1, now_ms())
    assert first_page is not None
    assert first_page.finished, "finished, though this page does not reach its end"
    assert not first_page.ended


async def test_a_follower_reads_every_event_after_the_one_it_saw(stores: Stores) -> None:
    await begin(stores, "t1", "s1")
    await append(stores, "t1", events(1, 5), ended=False, now=now_ms(), ttl_seconds=TTL, max_events=100)

    page = await stores.turns.read("t1", 2, 100, now_ms())

    assert page is not None
    assert page.session_id == "s1"
    assert page.events == events(3, 5)
    assert not page.ended
    assert not page.overflowed


async def test_reads_page_through_a_long_buffer_and_end_at_its_last_event(stores: Stores) -> None:
    await begin(stores, "t1", "s1")
    await append(stores, "t1", events(1, 7), ended=True, now=now_ms(), ttl_seconds=TTL, max_events=100)

    first = await stores.turns.read("t1", 0, 4, now_ms())
    rest = await stores.turns.read("t1", 4, 4, now_ms())

    assert first is not None
    assert rest is not None
    assert first.events == events(1, 4)
    assert not first.ended  # the turn ended, but this page does not reach its last event
    assert rest.events == events(5, 7)
    assert rest.ended


async def test_a_retried_append_adds_nothing_twice(stores: Stores) -> None:
    await begin(stores, "t1", "s1")
    await append(stores, "t1", events(1, 3), ended=False, now=now_ms(), ttl_seconds=TTL, max_events=100)
    await append(stores, "t1", events(2, 6), ended=False, now=now_ms(), ttl_seconds=TTL, max_events=100)

    page = await stores.turns.read("t1", 0, 100, now_ms())

    assert page is not None
    assert page.events == events(1, 6)


async def test_a_full_buffer_keeps_no_more_and_says_so(stores: Stores) -> None:
    await begin(stores, "t1", "s1")
    await append(stores, "t1", events(1, 8), ended=False, now=now_ms(), ttl_seconds=TTL, max_events=5)
    await append(stores, "t1", events(9, 9), ended=True, now=now_ms(), ttl_seconds=TTL, max_events=5)

    page = await stores.turns.read("t1", 0, 100, now_ms())

    assert page is not None
    assert page.events == events(1, 5)
    assert page.overflowed
    assert page.ended


async def test_stop_reaches_the_running_turn_on_its_next_append(stores: Stores) -> None:
    await begin(stores, "t1", "s1")
    before = await append(stores, "t1", events(1, 1), ended=False, now=now_ms(), ttl_seconds=TTL, max_events=9)

    assert await stores.turns.request_stop("t1")
    after = await append(stores, "t1", events(2, 2), ended=False, now=now_ms(), ttl_seconds=TTL, max_events=9)

    assert not before.stop_requested
    assert after.stop_requested


async def test_an_ended_or_unknown_turn_cannot_be_stopped(stores: Stores) -> None:
    await begin(stores, "t1", "s1")
    await append(stores, "t1", events(1, 1), ended=True, now=now_ms(), ttl_seconds=TTL, max_events=9)

    assert not await stores.turns.request_stop("t1")
    assert not await stores.turns.request_stop("no-such-turn")


async def test_the_running_turn_learns_when_a_follower_last_read(stores: Stores) -> None:
    await begin(stores, "t1", "s1")
    unread = await append(stores, "t1", [], ended=False, now=now_ms(), ttl_seconds=TTL, max_events=9)
    read_at = now_ms()
    await stores.turns.read("t1", 0, 10, read_at)

    control = await append(stores, "t1", [], ended=False, now=now_ms(), ttl_seconds=TTL, max_events=9)

    assert unread == TurnControl(stop_requested=False, last_follow_ms=0)
    assert control.last_follow_ms == read_at


async def test_an_unknown_buffer_reads_as_none_and_tells_its_writer_it_is_gone(stores: Stores) -> None:
    """Lost (a store restarted without persistence): the writer learns it, stores nothing, and
    is not told to stop (the answer goes on; the buffer can be begun again)."""
    assert await stores.turns.read("no-such-turn", 0, 10, now_ms()) is None
    control = await append(
        stores, "no-such-turn", events(1, 1), ended=False, now=now_ms(), ttl_seconds=TTL, max_events=9
    )
    assert control == TurnControl(stop_requested=False, last_follow_ms=0, gone=True)
    assert await stores.turns.read("no-such-turn", 0, 10, now_ms()) is None


async def test_a_lost_buffer_begun_again_holds_every_event_once(stores: Stores) -> None:
    await begin(stores, "t1", "s1")
    await append(stores, "t1", events(1, 3), ended=False, now=now_ms(), ttl_seconds=1, max_events=100)
    deadline = asyncio.get_running_loop().time() + 10
    while await stores.turns.read("t1", 0, 10, now_ms()) is not None:  # lost, as after a restart
        assert asyncio.get_running_loop().time() < deadline, "the buffer outlived its TTL"
        await asyncio.sleep(0.1)
    await append(stores, "t1", events(1, 5), ended=False, now=now_ms(), ttl_seconds=TTL, max_events=100, begin="s1")
    page = await stores.turns.read("t1", 0, 100, now_ms())
    assert page is not None
    assert page.events == events(1, 5)


async def test_a_session_has_one_running_turn_until_it_ends(stores: Stores) -> None:
    assert await stores.turns.running_turn("s1") is None
    await begin(stores, "t1", "s1")
    await begin(stores, "t2", "s2")

    assert await stores.turns.running_turn("s1") == "t1"
    await append(stores, "t1", events(1, 1), ended=True, now=now_ms(), ttl_seconds=TTL, max_events=9)
    assert await stores.turns.running_turn("s1") is None
    assert await stores.turns.running_turn("s2") == "t2"


async def test_a_buffer_expires_after_its_ttl(stores: Stores) -> None:
    await begin(stores, "t1", "s1")
    await append(stores, "t1", events(1, 2), ended=True, now=now_ms(), ttl_seconds=1, max_events=9)

    deadline = asyncio.get_running_loop().time() + 10
    while await stores.turns.read("t1", 0, 10, now_ms()) is not None:
        assert asyncio.get_running_loop().time() < deadline, "the buffer outlived its TTL"
        await asyncio.sleep(0.1)


async def test_a_deleted_session_takes_its_running_turn_pointer(stores: Stores) -> None:
    await stores.sessions.create("s1", "visitor", now_ms(), TTL)
    await begin(stores, "t1", "s1")

    await stores.sessions.delete("s1")

    assert await stores.turns.running_turn("s1") is None
