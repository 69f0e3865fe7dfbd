"""The owner answers contract, on SQLite, Redis and Redis Cluster (the `stores` fixture)."""

from __future__ import annotations

from portfolio_backend.store import ANSWERS_KEPT, OwnerAnswer, Stores


def _answer(n: int, question: str = "What are your rates?", answer: str = "650 EUR a day.") -> OwnerAnswer:
    return OwnerAnswer(f"answer-{n}", question, answer, n, n)


async def test_answers_come_back_whole_newest_first_with_a_version_that_moves_on_every_write(stores: Stores) -> None:
    assert await stores.answers.all() == (0, [])
    rates, city = _answer(1), _answer(2, "Où habites-tu ?", 'À Lisbonne — près du fleuve. "Quoted" / slashed')
    assert await stores.answers.add(rates)
    assert await stores.answers.add(city)
    after_adds = await stores.answers.version()

    version, answers = await stores.answers.all()

    assert answers == [city, rates]
    assert version == after_adds > 0


async def test_an_update_replaces_the_text_and_an_unknown_id_changes_nothing(stores: Stores) -> None:
    await stores.answers.add(_answer(1))
    await stores.answers.add(_answer(2, "Where do you live?", "Lisbon."))
    before = await stores.answers.version()

    updated = await stores.answers.update("answer-1", "What is your day rate?", "700 EUR a day.", 10)
    missing = await stores.answers.update("answer-9", "q", "a", 11)

    assert updated == OwnerAnswer("answer-1", "What is your day rate?", "700 EUR a day.", 1, 10)
    assert missing is None
    version, answers = await stores.answers.all()
    assert version != before
    assert answers[0] == updated  # the newest edit first
    assert await stores.answers.update("answer-9", "q", "a", 12) is None
    assert await stores.answers.version() == version


async def test_a_delete_removes_the_answer_once(stores: Stores) -> None:
    await stores.answers.add(_answer(1))
    before = await stores.answers.version()

    assert await stores.answers.delete("answer-1")
    assert not await stores.answers.delete("answer-1")

    version, answers = await stores.answers.all()
    assert answers == []
    assert version != before


async def test_the_store_refuses_answers_past_its_bound(stores: Stores) -> None:
    for n in range(ANSWERS_KEPT):
        assert await stores.answers.add(_answer(n))

    assert not await stores.answers.add(_answer(ANSWERS_KEPT))
    assert len((await stores.answers.all())[1]) == ANSWERS_KEPT
