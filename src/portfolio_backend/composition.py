"""The composition root: `compose(...)` returns the lifespan that builds every part of the service
in order (stores, HTTP client, model, knowledge, MCP tools, registry, chat service, live turns,
limiter, ledger, turn lifecycle, pseudonyms, workers), yields them as the typed `State`, and closes
them in reverse order. `create_app` (app.py) only wires this lifespan to FastAPI and the routes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from .api.mcp_server import SiteServer
from .api.sse import SHUTDOWN_MESSAGE
from .chat import ChatService
from .deps import State
from .errors import StoreError
from .knowledge import Knowledge
from .live import LiveTurns
from .logs import write_logs_directly
from .mcp_client import McpTools, load_servers
from .observability import Metrics
from .quota import Bounds, Limiter, VisitorPseudonyms
from .service_parts import open_service_parts
from .settings import Settings
from .tools import registry_from_settings
from .turns import TurnLifecycle
from .usage import PriceTable
from .usage.ledger import SpendLedger
from .workers.reminders import ReminderDispatcher
from .workers.retention import RetentionWorker

log = logging.getLogger("portfolio_backend")

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[State]]


def _describe(knowledge: Knowledge | None) -> str:
    if knowledge is None:
        return "none"
    status = knowledge.status()
    return f"{status['passages']} passages ({status['mode']}, {status['ranking']}, {len(status['failures'])} not used)"


def compose(
    settings: Settings,
    *,
    metrics: Metrics,
    clock: Callable[[], float],
    site: SiteServer | None,
) -> Lifespan:
    """The app's lifespan: everything a request reads, opened once at start-up, closed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            stack.callback(write_logs_directly)  # last, once everything else has closed
            parts = await open_service_parts(settings, stack)
            system_prompt, stores, http, llm, knowledge = (
                parts.system_prompt,
                parts.stores,
                parts.http,
                parts.llm,
                parts.knowledge,
            )
            # the owner's MCP servers connect in the background: start-up never waits for one
            mcp_tools = McpTools(await load_servers(settings.mcp_servers))
            mcp_tools.start()
            stack.push_async_callback(mcp_tools.close)
            # the lead tools charge their notifications through the app's limiter (clock, fail-open)
            limiter = Limiter(
                stores.counters,
                clock,
                fail_open=settings.rate_limit_fail_open,
                on_refused=lambda bound: metrics.quota_rejections.labels(bound.name).inc(),
            )
            registry = registry_from_settings(settings, knowledge, mcp_tools, limiter)
            forced = settings.openai_tool_choice
            if forced not in ("", "auto") and forced not in {spec["function"]["name"] for spec in registry.specs()}:
                log.warning("OPENAI_TOOL_CHOICE names %s, which is not an enabled tool: it is never sent", forced)
            prices = PriceTable(settings.model_prices)
            if prices.price(llm.model) is None:
                log.warning(
                    "no price for model %s: its turns cost $0, so DAILY_BUDGET_USD cannot trigger; set MODEL_PRICES",
                    llm.model,
                )
            ledger = SpendLedger(stores.usage, prices, settings, llm.model, clock=clock)
            chat = ChatService(
                settings=settings,
                llm=llm,
                tools=registry,
                stores=stores,
                http=http,
                system_prompt=system_prompt,
                knowledge=knowledge,
                prices=prices,
            )
            if settings.reminder_webhook_url:
                dispatcher = asyncio.create_task(
                    ReminderDispatcher(stores.reminders, http, settings.reminder_webhook_url).run(),
                    name="reminder-dispatcher",
                )
                stack.callback(dispatcher.cancel)
            # what the retention periods let go, deleted on every store (workers/retention.py)
            retention = asyncio.create_task(RetentionWorker(stores, settings).run(), name="retention")
            stack.callback(retention.cancel)
            # at shutdown, past uvicorn's grace period, live turns still running end first, before
            # the model client and the store close: they store nothing and settle their quota
            live = LiveTurns(settings, stores.turns)
            stack.push_async_callback(live.close, SHUTDOWN_MESSAGE)
            pseudonyms = VisitorPseudonyms(settings, stores.secrets)
            if site is not None:
                site.knowledge = knowledge
                await stack.enter_async_context(site.session_manager.run())
            try:
                await stores.check()
                await pseudonyms.ready()  # else at the first request that names its visitor
                storage = "ok"
            except StoreError as exc:
                storage = f"unavailable ({exc}); will retry on each request"
            log.info(
                "started: storage=%s (%s), model=%s via %s, knowledge=%s%s",
                stores.name,
                storage,
                llm.model,
                llm.provider,
                _describe(knowledge),
                " (offline demo: set OPENAI_API_KEY for a real model)" if llm.provider == "demo" else "",
            )
            if settings.metrics_token is None:
                log.warning(
                    "METRICS_TOKEN is not set: /metrics is open to whoever reaches this port (private networks only)"
                )
            bounds = Bounds.from_settings(settings)
            turns = TurnLifecycle(
                settings=settings,
                stores=stores,
                chat=chat,
                limiter=limiter,
                bounds=bounds,
                ledger=ledger,
                live=live,
                metrics=metrics,
            )
            yield State(
                settings=settings,
                stores=stores,
                http=http,
                llm=llm,
                tools=registry,
                chat=chat,
                limiter=limiter,
                ledger=ledger,
                bounds=bounds,
                metrics=metrics,
                knowledge=knowledge,
                live=live,
                turns=turns,
                pseudonyms=pseudonyms,
            )

    return lifespan
