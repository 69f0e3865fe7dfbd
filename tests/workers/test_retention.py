"""The retention worker with an injected clock, on SQLite, Redis and Redis Cluster: transcripts
and ratings go TRANSCRIPT_RETENTION_DAYS after, leads and questions LEADS_RETENTION_DAYS after."""

from __future__ import annotations

from collections.abc import Callable

from portfolio_backend.settings import Settings
from portfolio_backend.store import Feedback, Lead, Message, Stores
from portfolio_backend.store.privacy import Expired
from portfolio_backend.store.transcripts import DAY_MS
from portfolio_backend.workers.retention import RetentionWorker

NOW = 1_800_000_000_000


async def keep(stores: Stores, session_id: str, visitor: str, now: int) -> None:
    step = stores.transcripts.keep_step(session_id, visitor, [Message("user", "hello", now)], now, 30)
    await stores.backend.run_steps([step])


async def test_what_expired_is_deleted_and_what_did_not_stays(
    stores: Stores, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(transcript_retention_days=30, leads_retention_days=365)
    await stores.sessions.create("s-old", "v-ada", NOW, 3600)
    await stores.sessions.create("s-new", "v-bob", NOW + 10 * DAY_MS - 2, 3600)
    await keep(stores, "s-old", "v-ada", NOW)
    await keep(stores, "s-new", "v-bob", NOW + 10 * DAY_MS - 1)  # its session is still open: 1 h
    await stores.feedback.rate(Feedback("t-old", "s-old", "v-ada", "down", NOW, "meh"))
    await stores.feedback.rate(Feedback("t-new", "s-new", "v-bob", "up", NOW + 20 * DAY_MS))
    await stores.leads.add(Lead("l-old", "contact", NOW, "s-old", "ada@example.com"))
    await stores.leads.add(Lead("l-new", "question", NOW + 300 * DAY_MS, question="Welsh?"))
    clock = {"now": NOW + 31 * DAY_MS}
    worker = RetentionWorker(stores, settings, clock=lambda: clock["now"])

    first = await worker.expire_once()
    assert first == Expired(transcripts=1, feedback=1, leads=0)
    assert await stores.transcripts.load("s-old", clock["now"]) is None
    assert [item.turn_id for item in await stores.feedback.newest(10)] == ["t-new"]
    assert len(await stores.leads.newest(10)) == 2

    clock["now"] = NOW + 366 * DAY_MS
    second = await worker.expire_once()
    assert second == Expired(transcripts=1, feedback=1, leads=1)
    assert [lead.lead_id for lead in await stores.leads.newest(10)] == ["l-new"]
    assert await worker.expire_once() == Expired()
