"""The process's flusher keeps every live turn's events in the store, all turns at once; a turn it
cannot flush is let go rather than waited on forever (shutdown waits on it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from portfolio_backend.chat import End, StopRequest, TextDelta, TurnEvent
from portfolio_backend.clock import now_ms
from portfolio_backend.live import LiveTurn, new_turn_id
from portfolio_backend.live.codec import decode_event
from portfolio_backend.live.sync import BufferSettings, BufferSync
from portfolio_backend.store import Stores


async def answer(*events: object) -> AsyncIterator[TurnEvent]:
    for event in events:
        yield event  # type: ignore[misc]


async def settled(live: LiveTurn, last: TurnEvent | None) -> TurnEvent | None:
    return last  # no settlement of its own: the flusher stores the ended turn's last events


def start(sync: BufferSync, session_id: str, *events: object) -> LiveTurn:
    live = LiveTurn(new_turn_id(), session_id, answer(*events), StopRequest(), grace_seconds=60, on_end=settled)
    live.synced = sync.add(live, session_id)
    return live


async def test_every_turn_running_here_is_stored_whole(stores: Stores) -> None:
    sync = BufferSync(BufferSettings(stores.turns, ttl_seconds=60, max_events=100, running_ttl_seconds=600))
    turns = [start(sync, f"s{n}", *(TextDelta(f"{n}.{i} ") for i in range(n + 1)), End()) for n in range(5)]

    assert await asyncio.wait_for(asyncio.gather(*(live.synced for live in turns if live.synced)), 10) == [True] * 5
    for n, live in enumerate(turns):
        page = await stores.turns.read(live.turn_id, 0, 100, now_ms())
        assert page is not None
        assert page.session_id == f"s{n}"
        assert page.ended
        expected = [*(TextDelta(f"{n}.{i} ") for i in range(n + 1)), End()]
        assert [decode_event(body) for _, body in page.events] == expected
    await sync.close()


async def test_a_turn_that_cannot_be_flushed_is_let_go_and_the_others_go_on(stores: Stores) -> None:
    sync = BufferSync(BufferSettings(stores.turns, ttl_seconds=60, max_events=100, running_ttl_seconds=600))
    broken = start(sync, "s1", TextDelta("a"), object(), End())  # an event the buffer cannot encode
    await asyncio.wait_for(asyncio.wait({broken.task}), 10)

    assert await asyncio.wait_for(broken.synced, 10) is False  # type: ignore[arg-type]
    healthy = start(sync, "s2", TextDelta("b"), End())
    assert await asyncio.wait_for(healthy.synced, 10) is True  # type: ignore[arg-type]
    await sync.close()


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("store_kind", ["redis"])
async def test_a_buffer_the_store_lost_is_begun_again_and_the_answer_goes_on(stores: Stores) -> None:
    """Redis restarted without persistence mid-answer: the turn is not stopped (as a Stop asked
    elsewhere would), and its buffer is written again whole, so a reattach still gets it all."""
    sync = BufferSync(BufferSettings(stores.turns, ttl_seconds=60, max_events=100, running_ttl_seconds=600))
    more = asyncio.Event()

    async def answer() -> AsyncIterator[TurnEvent]:
        yield TextDelta("before ")
        await more.wait()
        yield TextDelta("after")
        yield End()

    live = LiveTurn(new_turn_id(), "s1", answer(), StopRequest(), grace_seconds=60, on_end=settled)
    live.synced = sync.add(live, "s1")

    async def stored(count: int) -> bool:
        page = await stores.turns.read(live.turn_id, 0, 100, now_ms())
        return page is not None and len(page.events) == count

    await until(lambda: stored(1), "the first event was never stored")
    await stores.backend.client.flushall()  # type: ignore[attr-defined]  # the restart
    await until(lambda: stored(1), "the lost buffer was not begun again")
    more.set()

    assert await asyncio.wait_for(live.synced, 10) is True
    assert not live.stop_request.requested
    page = await stores.turns.read(live.turn_id, 0, 100, now_ms())
    assert page is not None
    assert page.ended
    assert [decode_event(body) for _, body in page.events] == [TextDelta("before "), TextDelta("after"), End()]
    assert await stores.turns.running_turn("s1") is None
    await sync.close()


async def test_a_lone_surrogate_from_the_upstream_is_stored_and_read_back_exactly(stores: Stores) -> None:
    """JSON lets an upstream send "\\ud83d" alone; as raw text no store's UTF-8 takes it."""
    sync = BufferSync(BufferSettings(stores.turns, ttl_seconds=60, max_events=100, running_ttl_seconds=600))
    live = start(sync, "s1", TextDelta("half an emoji \ud83d"), End())

    assert await asyncio.wait_for(live.synced, 10) is True  # type: ignore[arg-type]
    page = await stores.turns.read(live.turn_id, 0, 100, now_ms())
    assert page is not None
    assert [decode_event(body) for _, body in page.events] == [TextDelta("half an emoji \ud83d"), End()]
    await sync.close()
