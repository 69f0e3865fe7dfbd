"""What a chat service is built from, opened once: the persona, the stores, the HTTP client, the
model and the owner's knowledge. The app's lifespan and `portfolio-check` (checks/) both open them
here, so a check's turn runs on the parts a visitor's does.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx2

from .chat.persona import persona
from .errors import StartupError, StoreError
from .knowledge import Knowledge, KnowledgeConfig
from .llm import LLMProvider, provider_from_settings
from .settings import Settings
from .store import Stores, open_stores


@dataclass(frozen=True, slots=True)
class ServiceParts:
    system_prompt: str
    stores: Stores
    http: httpx2.AsyncClient
    llm: LLMProvider
    knowledge: Knowledge | None


async def read_system_prompt(settings: Settings) -> str:
    """The persona, trimmed; StartupError naming the file when it cannot be read or is empty."""
    path = settings.system_prompt_file
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except OSError as exc:
        raise StartupError(f"SYSTEM_PROMPT_FILE {str(path)!r} cannot be read ({exc.strerror}).") from exc
    if not text.strip():
        raise StartupError(f"SYSTEM_PROMPT_FILE {str(path)!r} is empty: write the assistant's persona there.")
    return text.strip()


async def open_service_parts(settings: Settings, stack: AsyncExitStack) -> ServiceParts:
    """Open each part, its closing pushed on `stack` (closed in reverse order). StartupError when
    the persona or the store cannot be used; knowledge that cannot be read is logged, never fatal."""
    system_prompt = persona(await read_system_prompt(settings))
    try:
        stores = await open_stores(settings)
    except StoreError as exc:
        raise StartupError(str(exc)) from exc
    stack.push_async_callback(stores.close)
    http = httpx2.AsyncClient(timeout=httpx2.Timeout(10.0, connect=5.0), follow_redirects=False)
    stack.push_async_callback(http.aclose)
    llm = provider_from_settings(settings)
    stack.push_async_callback(llm.close)
    knowledge = None
    if await asyncio.to_thread(lambda: KnowledgeConfig.from_settings(settings).configured):
        knowledge = Knowledge.from_settings(settings, http)
        stack.push_async_callback(knowledge.close)
        await knowledge.open()  # a source or an index that cannot be read is logged, never fatal
    return ServiceParts(system_prompt, stores, http, llm, knowledge)
