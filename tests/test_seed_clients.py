"""Clients written for the original API documentation, and the smoke scripts, against a live server on both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
import requests

from portfolio_backend.settings import Settings

from .conftest import ROOT
from .fixtures.processes import free_port


def seed_python_example(url: str) -> str:
    """The original documentation's "Using Python requests" client, verbatim but for the URL and the output."""
    out = []
    data = {"prompt": "Explain quantum computing in simple terms"}
    response = requests.post(url, json=data, stream=True, timeout=30)
    for line in response.iter_lines():
        if line:
            line = line.decode("utf-8")
            if line.startswith("data: "):
                json_str = line[6:]
                try:
                    chunk = json.loads(json_str)
                    if chunk["type"] == "chunk":
                        out.append(chunk["content"])
                    elif chunk["type"] == "end":
                        break
                    elif chunk["type"] == "error":
                        out.append(f"Error: {chunk['error']}")
                        break
                except json.JSONDecodeError:
                    continue
    return "".join(out)


def seed_tool_example(base: str) -> list[str]:
    """The original documentation's "Example Tool Usage" client: it parses every non-empty line as JSON."""
    seen = []
    response = requests.post(f"{base}/session", timeout=10)
    session_id = response.json()["session_id"]
    for question in ["What's the current time?", "Calculate 25 squared", "Tell me about our conversation session"]:
        response = requests.post(f"{base}/stream", json={"prompt": question, "session_id": session_id}, timeout=30)
        for line in response.iter_lines():
            if line:
                data = json.loads(line.decode("utf-8")[6:])  # Remove 'data: ' prefix
                if data.get("type") == "tool_result":
                    seen.append(f"{data['tool_name']}: {data['result']}")
                elif data.get("type") == "end":
                    break
    return seen


async def test_the_seed_python_snippets_work_against_a_live_server(
    make_settings: Callable[..., Settings], live_server_for: Any
) -> None:
    import asyncio

    with live_server_for(make_settings()) as server:
        answer = await asyncio.to_thread(seed_python_example, f"{server.url}/stream")
        tools = await asyncio.to_thread(seed_tool_example, server.url)
    assert "offline demo model" in answer
    assert [line.split(":")[0] for line in tools] == ["get_current_time", "calculate", "get_session_info"]
    assert "= 625" in tools[1]


def run_script(name: str, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BASE_URL": base_url}
    return subprocess.run(
        [sys.executable, str(ROOT / name)], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("store_kind", ["sqlite", "redis"], indirect=True)
async def test_the_smoke_scripts_pass_against_a_live_server(
    make_settings: Callable[..., Settings], live_server_for: Any
) -> None:
    import asyncio

    with live_server_for(make_settings(rate_limit="20/day")) as server:
        for script in (
            "test_client.py",
            "test_streaming.py",
            "test_session.py",
            "test_tools.py",
            "test_rate_limiting.py",
        ):
            result = await asyncio.to_thread(run_script, script, server.url)
            assert result.returncode == 0, f"{script}:\n{result.stdout}\n{result.stderr}"
            assert "all checks passed" in result.stdout


def test_a_smoke_script_fails_loudly_without_a_server() -> None:
    result = run_script("test_client.py", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "cannot talk to" in result.stderr
