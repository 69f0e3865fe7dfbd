"""POST /api/chat with the AI SDK's real client: runs tests/aisdk/*.test.mjs under `node --test`.

The service and the scripted upstream are this suite's own fixtures (one source of truth); the
Node tests reach them through CHAT_SERVICE and UPSTREAM_CONTROL and script the upstream over HTTP.
The web search tool asks SEARCH_SERVICE, a SearXNG the Node tests serve themselves, so they decide
when a tool answers.
The pinned `ai` versions come from package-lock.json (`npm ci`, which .ci/run and test.sh run).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from portfolio_backend.settings import Settings

from ..conftest import ROOT
from ..fixtures.processes import free_port
from ..fixtures.upstream import ScriptedUpstream

NODE_TESTS = ROOT / "tests" / "aisdk"
# Short, so the test of stop() alone (a disconnect: the answer runs on this long) stays quick, and
# long enough that Stop's "at once" is told apart from it.
GRACE_SECONDS = 3


# the default store: the route's own tests (test_chat_ui.py, test_chat_resume.py, and the scale
# tests across processes) run on every store; this run is about the client, and costs 15 s a store
@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
def test_the_ai_sdk_client_against_the_live_service(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, live_server_for: Any
) -> None:
    node = shutil.which("node")
    assert node, "Node.js 20+ is needed for the AI SDK client tests (apt-get install nodejs npm)"
    assert (ROOT / "node_modules" / "ai").is_dir(), "run `npm ci` first (test.sh and .ci/run do)"
    search = f"http://127.0.0.1:{free_port()}"
    settings = upstream_settings(
        rate_limit="4/day",  # small, so the 429 test reaches it in a few turns
        session_create_limit="2/day",  # and the new-chat 429 in two
        trusted_proxies="127.0.0.1/32",  # each Node test is its own visitor, by X-Forwarded-For
        keepalive_seconds=0.1,
        searxng_url=search,
        resume_grace_seconds=GRACE_SECONDS,
    )
    with live_server_for(settings) as server:
        env = {
            **os.environ,
            "CHAT_SERVICE": server.url,
            "UPSTREAM_CONTROL": f"http://127.0.0.1:{upstream.port}",
            "SEARCH_SERVICE": search,
            "NODE_NO_WARNINGS": "1",
            "RESUME_GRACE_SECONDS": str(GRACE_SECONDS),
        }
        result = subprocess.run(
            [node, "--test", "--test-concurrency=1", "--test-reporter=spec", str(NODE_TESTS)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    summary = dict(re.findall(r"^ℹ (tests|pass|skipped) (\d+)$", report, re.MULTILINE))
    assert int(summary["tests"]) > 0, report
    assert summary["pass"] == summary["tests"], report
    assert summary["skipped"] == "0", report
