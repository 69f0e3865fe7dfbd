"""/mcp driven by the MCP Inspector's CLI (`@modelcontextprotocol/inspector`, pinned in
package-lock.json; `npm ci` installs it, as .ci/run and test.sh do): another implementation of the
protocol than the Python SDK the other tests use, the one owners reach for first."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portfolio_backend.settings import Settings

from ..conftest import ROOT

INSPECTOR = ROOT / "node_modules" / ".bin" / "mcp-inspector"

pytestmark = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)


def inspect(url: str, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    node = shutil.which("node")
    assert node, "Node.js 20+ is needed for the Inspector tests (apt-get install nodejs npm)"
    assert INSPECTOR.exists(), "run `npm ci` first (test.sh and .ci/run do)"
    env = {**os.environ, "MCP_CATALOG_PATH": str(tmp_path / "catalog.json"), "NODE_NO_WARNINGS": "1"}
    result = subprocess.run(
        [str(INSPECTOR), "--cli", url, "--transport", "http", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout, result.stderr


def test_the_inspector_lists_calls_and_reads(
    make_settings: Callable[..., Settings], live_server_for: Any, tmp_path: Path
) -> None:
    with live_server_for(make_settings(rate_limit="1/day")) as server:
        url = server.url + "/mcp"
        # --strict: the tools' schemas pass the Inspector's portability checks (exit 6 if not)
        listed = inspect(url, tmp_path, "--method", "tools/list", "--strict")
        asked = inspect(url, tmp_path, "--method", "tools/call", "--tool-name", "ask", "--tool-arg", "question=Hi?")
        refused = inspect(url, tmp_path, "--method", "tools/call", "--tool-name", "ask", "--tool-arg", "question=Hi?")
        resources = inspect(url, tmp_path, "--method", "resources/list")
        about = inspect(url, tmp_path, "--method", "resources/read", "--uri", "knowledge:///about.md")

    assert listed[0] == 0, listed
    assert [tool["name"] for tool in json.loads(listed[1])["tools"]] == ["ask", "search_knowledge", "contact_owner"]
    assert asked[0] == 0, asked
    answer = json.loads(asked[1])
    assert answer["isError"] is False
    assert answer["structuredContent"]["answer"]
    assert answer["structuredContent"]["conversation_id"]
    # RATE_LIMIT=1/day: the second turn is refused, as a tool error the Inspector reports (exit 5)
    assert refused[0] != 0
    refusal = json.loads(refused[1])
    assert refusal["isError"] is True
    assert refusal["content"][0]["text"].startswith("Rate limited: ")
    assert resources[0] == 0, resources
    assert "knowledge:///about.md" in [resource["uri"] for resource in json.loads(resources[1])["resources"]]
    assert about[0] == 0, about
    assert "Lisbon" in json.loads(about[1])["contents"][0]["text"]
