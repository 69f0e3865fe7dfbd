"""The index is rebuilt when, and only when, the sources change; other workers pick the rebuild up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from portfolio_backend.knowledge.index import KnowledgeIndex

from .conftest import OpenKnowledge, write_files


async def test_a_changed_file_is_served_after_reload_and_an_unchanged_one_is_not_rebuilt(
    tmp_path: Path, open_knowledge: OpenKnowledge
) -> None:
    directory = write_files(tmp_path / "k", {"rates.md": "# Rates\n\nThe day rate is 650 EUR.\n"})
    async with open_knowledge(directory) as knowledge:
        assert not await knowledge.reload()  # nothing changed since open()
        (directory / "rates.md").write_text("# Rates\n\nThe day rate is 720 EUR from April.\n", encoding="utf-8")
        assert await knowledge.reload()
        found = await knowledge.search("day rate", 1)
        assert "720 EUR" in found[0].text
        assert all("650" not in p.text for p in knowledge.snapshot.passages)


async def test_a_restart_on_unchanged_sources_reuses_the_index_file(
    tmp_path: Path, open_knowledge: OpenKnowledge
) -> None:
    directory = write_files(tmp_path / "k", {"about.md": "# About\n\nAlex lives in Lisbon.\n"})
    index = tmp_path / "shared.sqlite3"
    async with open_knowledge(directory, index_path=index):
        pass
    built = sqlite3.connect(index).execute("SELECT value FROM meta WHERE key = 'content_hash'").fetchone()
    async with open_knowledge(directory, index_path=index) as knowledge:
        assert not await knowledge.reload()
        assert [p.text for p in knowledge.snapshot.passages] == ["Alex lives in Lisbon."]
    again = sqlite3.connect(index).execute("SELECT value FROM meta WHERE key = 'content_hash'").fetchone()
    assert built == again


async def test_a_worker_sees_a_rebuild_made_by_another_worker(tmp_path: Path, open_knowledge: OpenKnowledge) -> None:
    directory = write_files(tmp_path / "k", {"about.md": "# About\n\nAlex lives in Lisbon.\n"})
    index = tmp_path / "shared.sqlite3"
    async with (
        open_knowledge(directory, index_path=index) as first,
        open_knowledge(directory, index_path=index) as second,
    ):
        (directory / "about.md").write_text("# About\n\nAlex moved to Porto.\n", encoding="utf-8")
        assert await first.reload()
        found = await second.search("Where does Alex live, Porto?", 1)
        assert found[0].text == "Alex moved to Porto."
        assert not await second.reload()  # the file already holds this content


async def test_a_worker_that_lost_the_race_to_build_serves_the_winners_index(
    tmp_path: Path, open_knowledge: OpenKnowledge
) -> None:
    """Regression: two workers starting together both open the empty file; the one whose rebuild
    found the other's already there kept its empty snapshot, so it answered without knowledge."""
    directory = write_files(tmp_path / "k", {"about.md": "# About\n\nAlex lives in Lisbon.\n"})
    index = tmp_path / "shared.sqlite3"
    late = KnowledgeIndex(index)
    await late.open(None)  # opened before anything was built: no passages yet
    try:
        async with open_knowledge(directory, index_path=index) as first:
            built = first.index.snapshot
            wrote = await late.replace(built.content_hash or "", list(built.passages), {}, {})
        assert not wrote
        assert [passage.text for passage in late.snapshot.passages] == ["Alex lives in Lisbon."]
    finally:
        await late.close()


async def test_an_index_path_that_cannot_be_written_builds_in_memory(
    tmp_path: Path, open_knowledge: OpenKnowledge
) -> None:
    directory = write_files(tmp_path / "k", {"about.md": "# About\n\nAlex lives in Lisbon.\n"})
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory should be")
    async with open_knowledge(directory, index_path=blocker / "index.sqlite3") as knowledge:
        assert knowledge.status()["index"] == ":memory:"
        assert [p.text for p in await knowledge.search("Lisbon", 1)] == ["Alex lives in Lisbon."]
