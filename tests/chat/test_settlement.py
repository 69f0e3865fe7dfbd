"""Settling a turn's quota after its stream (api/stream.settle_turn), from what the turn really did."""

from __future__ import annotations

from portfolio_backend.api.stream import settle_turn
from portfolio_backend.chat import ChatService, Error, RoundStarted, TextDelta, Turn, TurnReport
from portfolio_backend.clock import now_ms
from portfolio_backend.observability import Metrics
from portfolio_backend.quota import Bounds, Limiter, charge_turn

from ..fixtures.upstream import Reply, ScriptedUpstream

SESSION_ID = "0b6f3f0e-6f4c-4a53-9d55-3f3d1c7f2a11"


async def test_a_turn_whose_session_vanished_mid_answer_gives_its_open_stream_slot_back_once(
    chat: ChatService, upstream: ScriptedUpstream
) -> None:
    limiter, bounds = Limiter(chat.stores.counters), Bounds.from_settings(chat.settings)
    session = await chat.stores.sessions.create(SESSION_ID, "visitor", now_ms(), 3600)
    assert await charge_turn(limiter, bounds, "visitor")  # another stream of this visitor, still open
    charges = await charge_turn(limiter, bounds, "visitor")
    assert charges is not None
    upstream.script(Reply(chunks=["Hello", " there"]))
    report = TurnReport()
    turn = Turn("hi", "visitor", session.session_id, release_key=charges.open_stream.key)
    events = chat.run_turn(turn, report)
    assert await anext(events) == RoundStarted()
    assert await anext(events) == TextDelta("Hello")
    await chat.stores.sessions.delete(session.session_id)  # the visitor deletes it in another tab
    assert isinstance([event async for event in events][-1], Error)

    await settle_turn(limiter, Metrics(), charges, report)

    # the append gave the slot back; giving it back again would free the other stream's slot
    assert (await limiter.peek(bounds.streams, "visitor")).count == 1
    assert (await limiter.peek(bounds.chat, "visitor")).count == 2  # text was shown: the turn counts


async def test_a_turn_the_visitor_left_before_it_began_costs_nothing(chat: ChatService) -> None:
    limiter, bounds = Limiter(chat.stores.counters), Bounds.from_settings(chat.settings)
    charges = await charge_turn(limiter, bounds, "visitor")
    assert charges is not None

    await settle_turn(limiter, Metrics(), charges, TurnReport())  # run_turn never ran

    assert (await limiter.peek(bounds.streams, "visitor")).count == 0
    assert (await limiter.peek(bounds.chat, "visitor")).count == 0
