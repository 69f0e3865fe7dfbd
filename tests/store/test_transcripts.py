"""The transcripts contract, on SQLite, Redis and Redis Cluster (the `stores` fixture)."""

from __future__ import annotations

from portfolio_backend.store import Message, Stores
from portfolio_backend.store.transcripts import DAY_MS

NOW = 1_800_000_000_000
TTL = 3600


def said(text: str, role: str = "user") -> Message:
    return Message(role, text, NOW)


async def keep(stores: Stores, session_id: str, visitor: str, now: int, *texts: str) -> None:
    step = stores.transcripts.keep_step(session_id, visitor, [said(text) for text in texts], now, 30)
    await stores.backend.run_steps([step])


async def test_a_transcript_outlives_its_session_until_its_retention_ends(stores: Stores) -> None:
    await stores.sessions.create("s-1", "v-ada", NOW, TTL)
    await keep(stores, "s-1", "v-ada", NOW, "Hello", "Hi")
    await keep(stores, "s-1", "v-ada", NOW + 1000, "Again")

    after_the_session = NOW + 2 * TTL * 1000
    await stores.sessions.delete("s-1")  # (or expired: on Redis by the wall clock, not `now`)
    transcript = await stores.transcripts.load("s-1", after_the_session)
    assert transcript is not None
    assert [m.content for m in transcript.messages] == ["Hello", "Hi", "Again"]
    assert (transcript.meta.visitor, transcript.meta.created_at) == ("v-ada", NOW)
    assert transcript.meta.expires_at == NOW + 1000 + 30 * DAY_MS
    assert [meta.session_id for meta in await stores.transcripts.newest(10, after_the_session)] == ["s-1"]
    assert await stores.transcripts.for_visitor("v-ada", after_the_session) == ["s-1"]

    ended = NOW + 1000 + 30 * DAY_MS
    assert await stores.transcripts.load("s-1", ended) is None
    await stores.transcripts.expire(ended)
    assert await stores.transcripts.newest(10, ended) == []
    assert await stores.transcripts.for_visitor("v-ada", ended) == []
    assert await stores.transcripts.for_visitor("v-ada", NOW) == []  # its index forgot it too


async def test_no_transcript_is_kept_for_a_session_that_is_gone(stores: Stores) -> None:
    await keep(stores, "s-never", "v-ada", NOW, "Hello")  # deleted while its answer streamed
    assert await stores.transcripts.load("s-never", NOW) is None


async def test_newest_transcripts_come_first_and_delete_removes_them(stores: Stores) -> None:
    for n in range(3):
        await stores.sessions.create(f"s-{n}", "v-ada", NOW, TTL)
        await keep(stores, f"s-{n}", "v-ada", NOW + n, f"message {n}")
    assert [m.session_id for m in await stores.transcripts.newest(2, NOW)] == ["s-2", "s-1"]
    assert await stores.transcripts.delete(["s-1", "s-unknown"]) == 1
    assert await stores.transcripts.load("s-1", NOW) is None
    assert sorted(await stores.transcripts.for_visitor("v-ada", NOW)) == ["s-0", "s-2"]
