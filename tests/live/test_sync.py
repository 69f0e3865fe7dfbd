"""The process's flusher keeps every live turn's events in the store, all turns at once; a turn it
cannot flush is let go rather than waited on forever (shutdown waits on it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from portfolio_backend.chat import End, TextDelta, Turn, TurnEvent
from portfolio_backend.clock import now_ms
from portfolio_backend.live import LiveTurn, new_turn_id
from portfolio_backend.live.codec import decode_event
from portfolio_backend.live.sync import BufferSettings, BufferSync
from portfolio_backend.store import Stores


async def answer(*events: object) -> AsyncIterator[TurnEvent]:
    for event in events:
        yield event  # type: ignore[misc]


async def settled() -> None:
    pass


def start(sync: BufferSync, session_id: str, *events: object) -> LiveTurn:
    turn = Turn(prompt="hi", visitor="v", session_id=session_id)
    live = LiveTurn(new_turn_id(), turn, answer(*events), grace_seconds=60, on_end=settled)
    live.synced = sync.add(live, session_id)
    return live


async def test_every_turn_running_here_is_stored_whole(stores: Stores) -> None:
    sync = BufferSync(BufferSettings(stores.turns, ttl_seconds=60, max_events=100))
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
    sync = BufferSync(BufferSettings(stores.turns, ttl_seconds=60, max_events=100))
    broken = start(sync, "s1", TextDelta("a"), object(), End())  # an event the buffer cannot encode
    await asyncio.wait_for(asyncio.wait({broken.task}), 10)

    assert await asyncio.wait_for(broken.synced, 10) is False  # type: ignore[arg-type]
    healthy = start(sync, "s2", TextDelta("b"), End())
    assert await asyncio.wait_for(healthy.synced, 10) is True  # type: ignore[arg-type]
    await sync.close()
