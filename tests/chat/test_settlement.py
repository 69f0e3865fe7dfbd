"""Settling a turn (turns/lifecycle.py), from what the turn really did: its history, its open-stream
slot and its refund, given back exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from portfolio_backend.chat import ChatService, Error, RoundStarted, TextDelta
from portfolio_backend.clock import now_ms
from portfolio_backend.live import LiveTurns
from portfolio_backend.observability import Metrics
from portfolio_backend.quota import Bounds, Limiter, turn_charges
from portfolio_backend.turns import TurnLifecycle, TurnRequest
from portfolio_backend.usage.ledger import SpendLedger
from portfolio_backend.usage.prices import PriceTable

from ..fixtures.upstream import Reply, ScriptedUpstream

SESSION_ID = "0b6f3f0e-6f4c-4a53-9d55-3f3d1c7f2a11"


@pytest.fixture
async def turns(chat: ChatService) -> AsyncIterator[TurnLifecycle]:
    settings, stores = chat.settings, chat.stores
    live = LiveTurns(settings, stores.turns)
    yield TurnLifecycle(
        settings=settings,
        stores=stores,
        chat=chat,
        limiter=Limiter(stores.counters),
        bounds=Bounds.from_settings(settings),
        ledger=SpendLedger(stores.usage, PriceTable(settings.model_prices), settings, chat.llm.model),
        live=live,
        metrics=Metrics(),
    )
    await live.close("shutdown")


async def test_a_turn_whose_session_vanished_mid_answer_gives_its_open_stream_slot_back_once(
    chat: ChatService, turns: TurnLifecycle, upstream: ScriptedUpstream
) -> None:
    limiter, bounds = turns.limiter, turns.bounds
    session = await chat.stores.sessions.create(SESSION_ID, "visitor", now_ms(), 3600)
    assert await limiter.admit(turn_charges(bounds, "visitor"))  # another stream of this visitor, still open
    upstream.script(Reply(chunks=["Hello", " there"]))
    answer = await turns.start(TurnRequest("hi", "visitor", session_id=session.session_id))
    assert await anext(answer.events) == RoundStarted()
    assert await anext(answer.events) == TextDelta("Hello")
    await chat.stores.sessions.delete(session.session_id)  # the visitor deletes it in another tab
    assert isinstance([event async for event in answer.events][-1], Error)

    # the slot was given back once; twice would free the other stream's slot
    assert (await limiter.peek(bounds.streams, "visitor")).count == 1
    assert (await limiter.peek(bounds.chat, "visitor")).count == 2  # text was shown: the turn counts
    assert turns.in_flight == 0


async def test_a_turn_the_visitor_left_before_it_began_costs_nothing(
    turns: TurnLifecycle, upstream: ScriptedUpstream
) -> None:
    limiter, bounds = turns.limiter, turns.bounds
    upstream.script(Reply(chunks=["Hello"]))
    answer = await turns.start(TurnRequest("hi", "visitor"))
    assert answer.on_close is not None  # without a session: settled when its response closes
    await answer.on_close()  # the response closed before reading: run_turn never ran

    assert (await limiter.peek(bounds.streams, "visitor")).count == 0
    assert (await limiter.peek(bounds.chat, "visitor")).count == 0
    assert turns.in_flight == 0
