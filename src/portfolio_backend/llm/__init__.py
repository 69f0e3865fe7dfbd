"""Chat models: an OpenAI-compatible client, or the offline demo model when no key is set."""

from __future__ import annotations

from ..settings import Settings
from .base import Completion, Delta, LLMError, LLMProvider, TextDelta, ToolCall, Usage
from .demo import DemoProvider  # at import time: an import inside the running event loop blocks it
from .openai_compat import OpenAICompatProvider


def provider_from_settings(settings: Settings) -> LLMProvider:
    if settings.openai_api_key is None:
        return DemoProvider(word_delay=settings.demo_word_delay)
    return OpenAICompatProvider(
        api_key=settings.openai_api_key.get_secret_value(),
        model=settings.openai_model,
        base_url=settings.openai_base_url,
        connect_timeout=settings.openai_connect_timeout,
        read_timeout=settings.openai_read_timeout,
        max_retries=settings.openai_max_retries,
        stream_usage=settings.openai_stream_usage,
        tool_choice=settings.openai_tool_choice or None,
    )


__all__ = [
    "Completion",
    "Delta",
    "LLMError",
    "LLMProvider",
    "TextDelta",
    "ToolCall",
    "Usage",
    "provider_from_settings",
]
