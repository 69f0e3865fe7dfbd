"""The service's turn pipeline outside HTTP: the configured model (or the demo model), the owner's
knowledge and owner answers, the tools and the persona, as the app's lifespan builds them, so a
check's answer is the answer a visitor would get. Turns run without a session (nothing is stored)
and outside the visitors' quotas and budgets.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from ..chat import ChatService, Turn, TurnReport
from ..chat.events import Error, Sources, TextDelta
from ..llm import Usage
from ..service_parts import open_service_parts
from ..settings import Settings
from ..tools import registry_from_settings
from ..usage import PriceTable

# Who the checks' turns are from, where a tool or a log names a visitor
CHECK_VISITOR = "portfolio-check"


@dataclass(slots=True)
class Answer:
    """One question's answer as a visitor would have seen it."""

    text: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # the turn's `error` event, if it ended with one
    usage: Usage = field(default_factory=Usage)
    cost_micro_usd: int = 0
    seconds: float = 0.0


@asynccontextmanager
async def turn_pipeline(settings: Settings) -> AsyncIterator[ChatService]:
    """A ChatService built as the app builds it, closed on exit. StartupError when it cannot be."""
    async with AsyncExitStack() as stack:
        parts = await open_service_parts(settings, stack)
        yield ChatService(
            settings=settings,
            llm=parts.llm,
            tools=registry_from_settings(settings, parts.knowledge),
            stores=parts.stores,
            http=parts.http,
            system_prompt=parts.system_prompt,
            knowledge=parts.knowledge,
            prices=PriceTable(settings.model_prices),
        )


async def ask(chat: ChatService, question: str) -> Answer:
    """Run one question as a turn without a session, and gather what a visitor would see."""
    report = TurnReport()
    answer = Answer()
    text: list[str] = []
    started = time.perf_counter()
    async for event in chat.run_turn(Turn(prompt=question, visitor=CHECK_VISITOR), report):
        if isinstance(event, TextDelta):
            text.append(event.content)
        elif isinstance(event, Sources):
            answer.sources.extend(event.sources)
        elif isinstance(event, Error):
            answer.error = event.message
    answer.text = "".join(text)
    answer.usage = report.usage
    answer.cost_micro_usd = report.cost_micro_usd
    answer.seconds = time.perf_counter() - started
    return answer
