"""Any OpenAI-compatible chat completions server (OpenAI, Ollama, vLLM, llama.cpp, OpenRouter).

Uses the official `AsyncOpenAI` client. Retries: the SDK retries connection errors, 408/409/429
and 5xx with exponential backoff, and only before the response starts; once a token has arrived
nothing is retried, so a visitor never sees an answer twice.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any, cast

import openai
from openai import AsyncOpenAI, AsyncStream
from openai.types.chat import ChatCompletionChunk

from .base import Completion, Delta, LLMError, TextDelta
from .tool_calls import ToolCallAssembler

log = logging.getLogger(__name__)


def describe_failure(exc: openai.OpenAIError) -> LLMError:
    """A visitor-safe message for an SDK error: status and kind only, never the body or a key."""
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
    ) -> None:
        self.model = model
        self.stream_usage = stream_usage
        self.client = AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=openai.Timeout(read_timeout, connect=connect_timeout),
            max_retries=max_retries,
        )

    async def close(self) -> None:
        await self.client.close()

    async def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncGenerator[Delta, None]:
        options: dict[str, Any] = {}
        if tools:
            options["tools"] = tools
        if self.stream_usage:
            options["stream_options"] = {"include_usage": True}
        assembler = ToolCallAssembler()
        done = Completion()
        try:
            stream: AsyncStream[ChatCompletionChunk] = await self.client.chat.completions.create(
                model=self.model, messages=cast(Any, messages), stream=True, **options
            )
            # `async with` closes the HTTP response the moment this generator is closed early.
            async with stream:
                async for chunk in stream:
                    if chunk.usage is not None:
                        done.prompt_tokens = chunk.usage.prompt_tokens or 0
                        done.completion_tokens = chunk.usage.completion_tokens or 0
                    if not chunk.choices:
                        continue
                    delta = chunk.choices[0].delta
                    if delta is None:
                        continue
                    if delta.content:
                        yield TextDelta(delta.content)
                    if delta.tool_calls:
                        for fragment in delta.tool_calls:
                            assembler.add(fragment)
        except openai.OpenAIError as exc:
            failure = describe_failure(exc)
            log.warning("upstream failed: %s", type(exc).__name__)
            raise failure from exc
        done.tool_calls = assembler.calls()
        yield done
