"""The owner sees what the knowledge index holds and what it could not read, and reloads it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portfolio_backend.settings import Settings

from ...knowledge.conftest import write_files

TOKEN = "owner-token-0123456789"
GOOD = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def store_kind() -> str:
    return "sqlite"


async def test_the_owner_sees_sources_and_failures_and_a_reload_serves_a_changed_file(
    make_settings: Callable[..., Settings], client_for: Any, tmp_path: Path
) -> None:
    directory = write_files(
        tmp_path / "k", {"rates.md": "# Rates\n\nThe day rate is 650 EUR.\n", "cv.pdf": b"%PDF-1.7 not really"}
    )
    async with client_for(make_settings(admin_token=TOKEN, knowledge_dir=directory)) as client:
        assert (await client.get("/admin/knowledge")).status_code == 401
        status = (await client.get("/admin/knowledge", headers=GOOD)).json()
        assert status["configured"] is True
        assert [d["source"] for d in status["documents"]] == ["rates.md"]
        assert [f["source"] for f in status["failures"]] == ["cv.pdf"]
        assert status["mode"] == "whole"
        assert status["ranking"] == "bm25"

        (directory / "rates.md").write_text("# Rates\n\nThe day rate is 720 EUR.\n", encoding="utf-8")
        reloaded = (await client.post("/admin/knowledge/reload", headers=GOOD)).json()
        assert reloaded["rebuilt"] is True
        again = (await client.post("/admin/knowledge/reload", headers=GOOD)).json()
        assert again["rebuilt"] is False

        answer = (await client.post("/stream", json={"prompt": "What is the day rate?"})).text
        assert "720 EUR" in answer
        assert "650 EUR" not in answer


async def test_without_sources_the_owner_is_told_how_to_add_them(
    make_settings: Callable[..., Settings], client_for: Any, tmp_path: Path
) -> None:
    async with client_for(make_settings(admin_token=TOKEN, knowledge_dir=tmp_path / "none")) as client:
        status = (await client.get("/admin/knowledge", headers=GOOD)).json()
        assert status["configured"] is False
        assert "KNOWLEDGE_DIR" in status["detail"]
        response = await client.post("/admin/knowledge/reload", headers=GOOD)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
