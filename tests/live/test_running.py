"""A live turn announces its end only once it is settled, and nothing stops or cancels it meanwhile.

The AI SDK acts on a turn's last event at once (an `error` part fails the chat before the stream
closes), so a page that then reads its quota must find the turn's refund already given.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from portfolio_backend.chat import End, Error, StopRequest, TextDelta, TurnEvent
from portfolio_backend.live import LiveTurn, new_turn_id


async def answer(*events: TurnEvent) -> AsyncIterator[TurnEvent]:
    for event in events:
        yield event


def a_live_turn(events: AsyncIterator[TurnEvent], on_end: Settle) -> LiveTurn:
    return LiveTurn(new_turn_id(), "s", events, StopRequest(), grace_seconds=60, on_end=on_end)


Settle = Callable[[LiveTurn, TurnEvent | None], Awaitable[TurnEvent | None]]


async def test_the_last_event_is_published_only_after_the_turn_is_settled() -> None:
    published_at_settlement: list[TurnEvent] = []

    async def settle(live: LiveTurn, last: TurnEvent | None) -> TurnEvent | None:
        published_at_settlement.extend(live.events)
        return last

    live = a_live_turn(answer(TextDelta("Hi"), End()), settle)
    received = [event async for event in live.follow(0)]

    assert published_at_settlement == [TextDelta("Hi")]
    assert received == [TextDelta("Hi"), End()]
    assert live.ended


async def test_a_turn_being_settled_cannot_be_stopped_or_cancelled() -> None:
    """It has run: a Stop is too late (404), and the grace period ending changes nothing."""
    stop_answers: list[bool] = []

    async def settle(live: LiveTurn, last: TurnEvent | None) -> TurnEvent | None:
        stop_answers.append(live.stop())
        live.cancel("nobody was reading")
        return last

    live = a_live_turn(answer(TextDelta("Hi"), Error("upstream")), settle)
    received = [event async for event in live.follow(0)]

    assert stop_answers == [False]
    assert received == [TextDelta("Hi"), Error("upstream")]
    assert not live.stop_request.requested


async def test_a_turn_storing_its_complete_answer_is_not_cancelled() -> None:
    """The grace period ending (or shutdown) while the answer is being appended to history (the
    turn's settlement) must not cut the append after the store ran it: readers would be told
    nothing was kept."""
    storing = asyncio.Event()
    stored = asyncio.Event()

    async def settle(live: LiveTurn, last: TurnEvent | None) -> TurnEvent | None:
        storing.set()
        await stored.wait()
        return last

    live = a_live_turn(answer(TextDelta("Hi"), End()), settle)
    await storing.wait()
    live.cancel("nobody was reading")
    stored.set()
    received = [event async for event in live.follow(0)]

    assert received == [TextDelta("Hi"), End()]
