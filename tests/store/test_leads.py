"""The leads contract, on SQLite, Redis and Redis Cluster (the `stores` fixture)."""

from __future__ import annotations

from portfolio_backend.store import LEADS_KEPT, Lead, Stores


async def test_leads_come_back_whole_newest_first(stores: Stores) -> None:
    contact = Lead("lead-1", "contact", 1, "session-a", "ada@example.com", "Ada", "a job")
    question = Lead("lead-2", "question", 2, question="Do you speak Welsh?")
    await stores.leads.add(contact)
    await stores.leads.add(question)
    assert await stores.leads.newest(10) == [question, contact]
    assert await stores.leads.newest(0) == []


async def test_the_store_keeps_the_newest_leads_only(stores: Stores) -> None:
    for n in range(LEADS_KEPT + 3):
        await stores.leads.add(Lead(f"lead-{n}", "question", n, question=f"q{n}"))

    newest = await stores.leads.newest(LEADS_KEPT + 10)

    assert len(newest) == LEADS_KEPT
    assert newest[0].lead_id == f"lead-{LEADS_KEPT + 2}"
    assert newest[-1].lead_id == "lead-3"
    assert [lead.lead_id for lead in await stores.leads.newest(2)] == [
        f"lead-{LEADS_KEPT + 2}",
        f"lead-{LEADS_KEPT + 1}",
    ]
