"""Any OpenAI-compatible chat completions server (OpenAI, Ollama, vLLM, llama.cpp, OpenRouter).

Uses the official `AsyncOpenAI` client. Retries: the SDK retries connection errors, 408/409/429
and 5xx with exponential backoff, and only before the response starts; once a token has arrived
nothing is retried, so a visitor never sees an answer twice.
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import ssl
from collections.abc import AsyncGenerator
from typing import Any

import httpx2
import openai
from openai import AsyncOpenAI, DefaultAioHttpClient

from .base import Completion, Delta, LLMError, TextDelta, Usage
from .tool_calls import ToolCallAssembler

log = logging.getLogger(__name__)


def describe_failure(exc: openai.OpenAIError) -> LLMError:
    """A visitor-safe message for an SDK error: status and kind only, never the body or a key."""
    if isinstance(exc, openai.APITimeoutError) and isinstance(exc.__cause__, httpx2.ConnectTimeout):
        # no connection at all (aiohttp's adapter also reports a refused connection this way)
        return LLMError("The model could not be reached. Please try again shortly.", kind="connection", retryable=True)
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("The model took too long to answer. Please try again.", kind="timeout", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return LLMError("The model could not be reached. Please try again shortly.", kind="connection", retryable=True)
    if isinstance(exc, openai.RateLimitError):
        return LLMError(
            "The model is busy right now (rate limited upstream). Please try again shortly.",
            kind="rate_limited",
            retryable=True,
        )
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return LLMError("The service is misconfigured: the model refused its credentials.", kind="auth")
    if isinstance(exc, openai.APIStatusError):
        retryable = exc.status_code >= 500
        return LLMError(
            f"The model failed to answer (upstream status {exc.status_code}).",
            kind=f"status_{exc.status_code}",
            retryable=retryable,
        )
    return LLMError("The model stream failed. Please try again.", kind="stream")


class OpenAICompatProvider:
    provider = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_retries: int = 2,
        stream_usage: bool = True,
        tool_choice: str | None = None,
    ) -> None:
        self.model = model
        self.stream_usage = stream_usage
        self.tool_choice = tool_choice
        timeout = openai.Timeout(read_timeout, connect=connect_timeout)
        self.client = AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            # aiohttp as the SDK's transport, as its README recommends for concurrency: httpcore's
            # pool checks every idle connection on each request, which at 100 concurrent streams
            # was a fifth of the service's CPU (docs/performance.md).
            http_client=DefaultAioHttpClient(timeout=timeout),
        )

    async def close(self) -> None:
        await self.client.close()

    async def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncGenerator[Delta, None]:
        options: dict[str, Any] = {}
        if tools:
            options["tools"] = tools
            choice = _tool_choice(self.tool_choice, messages, tools)
            if choice is not None:
                options["tool_choice"] = choice
        if self.stream_usage:
            options["stream_options"] = {"include_usage": True}
        assembler = ToolCallAssembler()
        done = Completion()
        body = {"model": self.model, "messages": messages, "stream": True, **options}
        try:
            # The SDK's raw-request API (`client.post`, as its README documents for any endpoint):
            # it authenticates, retries before the response and maps errors as `create()` does,
            # without the two costs measured on the relay path (docs/performance.md): `create()`
            # walks every tool's JSON Schema through its TypedDict transform (~3 ms a turn), and
            # its typed chunks cost ~270 us each (a pydantic model per token). So the body goes
            # as plain JSON and the stream is read raw, one json.loads per event.
            response = await self.client.post(
                "/chat/completions",
                cast_to=httpx2.Response,
                body=body,
                stream=True,
                stream_cls=None,
                # left to the SDK, each request draws a uuid4 (a getrandom() call, ~3 % of a 1-chunk
                # turn's CPU) for a key it reuses only across its own retries of that request
                options={"idempotency_key": next(_request_keys)},
            )
            try:
                async for event in _data_events(response):
                    usage = event.get("usage")
                    if usage:
                        done.usage = _usage(usage)
                    choices = event.get("choices")
                    if not choices:
                        if event.get("error"):
                            raise LLMError("The model reported an error mid-answer. Please try again.", kind="stream")
                        continue
                    delta = choices[0].get("delta") or {}
                    content = delta.get("content")
                    if content:
                        yield TextDelta(content)
                    for fragment in delta.get("tool_calls") or ():
                        assembler.add(fragment)
            finally:
                # also when a visitor left mid-stream: closing the response closes the upstream call
                await response.aclose()
        except openai.OpenAIError as exc:
            log.warning("upstream failed: %s", type(exc).__name__)
            raise describe_failure(exc) from exc
        except httpx2.TimeoutException as exc:
            log.warning("upstream stream timed out")
            raise LLMError("The model took too long to answer. Please try again.", kind="timeout") from exc
        except (httpx2.RequestError, ssl.SSLError, ValueError) as exc:
            log.warning("upstream stream broke: %s", type(exc).__name__)
            raise LLMError("The model stream was interrupted. Please try again.", kind="stream") from exc
        done.tool_calls = assembler.calls()
        yield done


# Unique per process and request: a random prefix drawn once, then a counter
_KEY_PREFIX = f"pb-{secrets.token_hex(8)}"
_request_keys = (f"{_KEY_PREFIX}-{number}" for number in itertools.count(1))


def _tool_choice(setting: str | None, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
    """What `tool_choice` to send with `tools` (OPENAI_TOOL_CHOICE), or None for none.

    "auto" goes with every round that offers tools. A tool's name forces that tool in the turn's
    first round only (the request ends with the visitor's message): later rounds send no choice, so
    the model can answer. Never without tools: servers refuse a choice among none.
    """
    if setting is None or setting == "auto":
        return setting
    first_round = messages[-1].get("role") == "user"
    if first_round and any(tool["function"]["name"] == setting for tool in tools):
        return {"type": "function", "function": {"name": setting}}
    return None


def _usage(usage: dict[str, Any]) -> Usage:
    """The server's usage; `prompt_tokens_details.cached_tokens` is OpenAI's prompt-cache share."""
    details = usage.get("prompt_tokens_details") or {}
    return Usage(
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        cached_tokens=int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0,
        completion_tokens=int(usage.get("completion_tokens") or 0),
    )


async def _data_events(response: httpx2.Response) -> AsyncGenerator[dict[str, Any], None]:
    """The JSON of each `data:` line until `[DONE]`. Comments (`: keep-alive`, OpenRouter's
    `: OPENROUTER PROCESSING`), `event:` and `id:` lines are skipped."""
    pending = b""
    done = False
    # read on past [DONE] to the end of the body, so the connection goes back to the pool
    async for block in response.aiter_bytes():
        lines = (pending + block).split(b"\n")
        pending = lines.pop()
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                done = True
            elif data and not done:
                event = json.loads(data)
                if isinstance(event, dict):
                    yield event
