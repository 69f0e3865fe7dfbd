"""One chat turn: history -> model -> tools -> model ..., as typed events (events.py).

A turn stores nothing itself: it reports the messages a session keeps (`TurnReport.messages`, only
for a completed or stopped turn), and the turn's settlement (turns/lifecycle.py) appends them in one
atomic step with the rest of its accounting, so a history never holds half a turn: a visitor who
leaves, a failed upstream or a shutdown stores nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import httpx2

from ..clock import now_ms
from ..knowledge import Knowledge, KnowledgeError, Selection, render
from ..knowledge.attribution import attributed_sources
from ..knowledge.owner_answers import OwnerAnswers
from ..llm import Completion, LLMError, LLMProvider, TextDelta, ToolCall, Usage
from ..settings import Settings
from ..store import Message, Stores
from ..tools import ToolContext, ToolRegistry, ToolResult
from ..usage.estimate import estimate_prompt, estimate_round
from ..usage.prices import PriceTable
from .events import End, Error, RoundStarted, Sources, ToolCalled, ToolOutput, TurnEvent
from .openai_messages import upstream_message

log = logging.getLogger(__name__)

# Earlier questions of the visitor read with a follow-up, to find the passages it refers to.
_RECENT_QUESTIONS = 2
BUDGET_REACHED = (
    "The assistant has reached its daily budget, so it stopped here. Please come back tomorrow (after 00:00 UTC)."
)


@dataclass(frozen=True, slots=True)
class Turn:
    """A visitor's prompt with the history it continues: what the turn was admitted with."""

    prompt: str
    visitor: str
    session_id: str | None = None
    history: list[Message] = field(default_factory=list)
    replaces_last_turn: bool = False  # a regenerated answer or an edit: stored in place of the last turn
    prompt_client_id: str | None = None  # the client's id for the prompt's message, stored with it
    budget: TurnBudget | None = None  # the daily budget, checked before each further model round
    turn_id: str | None = None  # a live turn's id (live/), stored on the answer that ends it
    owner_answers_version: int | None = None  # the store's, read in admission's batch (None: read it then)


@dataclass(slots=True)
class StopRequest:
    """The visitor's Stop (issue 16), owned by whoever runs the turn (live/): it sets `requested`
    before cancelling the turn's task, and the turn then keeps what it answered so far; a
    cancellation without it (the visitor left, shutdown) keeps nothing."""

    requested: bool = False


class TurnBudget(Protocol):
    """A running turn's view of the daily budget (usage.ledger implements it)."""

    async def reached(self, spent_micro_usd: int) -> bool:
        """Whether the day's spend, with the `spent_micro_usd` this turn has spent so far, has
        reached the budget. Must not raise: a store it cannot read counts as not reached."""
        ...


class TurnOutcome(Enum):
    """How a turn ended, as quota settlement and metrics read it."""

    NEVER_STARTED = "never_started"  # the visitor left before the turn began: nothing ran
    COMPLETED = "completed"  # answered and, with a session, stored
    FAILED_BEFORE_TEXT = "failed_before_text"  # the model or the store failed; the visitor saw no text
    FAILED_AFTER_TEXT = "failed_after_text"  # the same, after some text had reached the visitor
    ABANDONED = "abandoned"  # the visitor left for good (grace period over), or shutdown, while it ran
    STOPPED = "stopped"  # the visitor pressed Stop; what it had answered is stored, marked stopped


@dataclass(slots=True)
class TurnReport:
    """What happened, filled in as the turn runs: the route and metrics read it afterwards."""

    outcome: TurnOutcome = TurnOutcome.NEVER_STARTED
    model: str = ""
    usage: Usage = field(default_factory=Usage)  # summed over every model round of the turn
    cost_micro_usd: int = 0  # of `usage`, by the price table
    started_at: float | None = None  # event-loop clock, like first_token_at
    first_token_at: float | None = None
    error_kind: str | None = None
    budget_reached: bool = False  # stopped before a further model round by the daily budget
    tool_results: list[ToolResult] = field(default_factory=list)
    # what the turn's session keeps: set when the turn completed or was stopped (settlement stores it)
    messages: list[Message] | None = None


class ChatService:
    def __init__(
        self,
        *,
        settings: Settings,
        llm: LLMProvider,
        tools: ToolRegistry,
        stores: Stores,
        http: httpx2.AsyncClient,
        system_prompt: str,
        knowledge: Knowledge | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.settings = settings
        self.llm = llm
        self.tools = tools
        self.stores = stores
        self.http = http
        self.system_prompt = system_prompt
        self.knowledge = knowledge
        self.prices = prices or PriceTable(settings.model_prices)
        self.owner_answers = OwnerAnswers(stores.answers, direct=settings.owner_answers_direct)

    def first_request_usage(self, turn: Turn) -> Usage:
        """The estimated prompt of the turn's first model request: what the turn reserves against
        the budgets before it starts (usage.ledger). The knowledge passages are chosen later, so
        their most (KNOWLEDGE_MAX_TOKENS) is counted when there is knowledge."""
        offered = self.tools.specs() if self.settings.max_tool_rounds else []
        passages = self.settings.knowledge_max_tokens if self.knowledge is not None else 0
        return Usage(prompt_tokens=estimate_prompt(self.upstream_messages(turn), offered) + passages, estimated=True)

    def upstream_messages(self, turn: Turn, selection: Selection | None = None) -> list[dict[str, Any]]:
        system = self.system_prompt
        if selection is not None:
            offered = {spec["function"]["name"] for spec in self.tools.specs()}
            system += "\n\n" + render(selection.passages, record_unknown="record_unknown_question" in offered)
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
        messages.extend(upstream_message(message) for message in turn.history)
        messages.append({"role": "user", "content": turn.prompt})
        return messages

    async def select_knowledge(self, turn: Turn) -> Selection | None:
        """The owner's passages for this turn; None when there is no knowledge (or it failed: logged)."""
        if self.knowledge is None or not self.knowledge.available:
            return None
        recent = [m.content for m in turn.history if m.role == "user"][-_RECENT_QUESTIONS:]
        try:
            return await self.knowledge.select(turn.prompt, recent)
        except KnowledgeError as exc:
            log.warning("knowledge not used for this turn: %s", exc)
            return None

    async def run_turn(
        self, turn: Turn, report: TurnReport, stop: StopRequest | None = None
    ) -> AsyncIterator[TurnEvent]:
        """Stream one turn's events; ends with `End` or `Error`, never an exception. A completed
        or stopped turn leaves what its session keeps in `report.messages`."""
        loop = asyncio.get_running_loop()
        report.started_at = loop.time()
        report.outcome = TurnOutcome.ABANDONED  # until it ends otherwise
        report.model = self.llm.model
        new_messages = [Message("user", turn.prompt, now_ms(), client_id=turn.prompt_client_id)]
        visitor_messages = [*(m.content for m in turn.history if m.role == "user"), turn.prompt]
        ctx = ToolContext(
            self.settings,
            self.stores,
            self.http,
            turn.visitor,
            turn.session_id,
            "\n".join(visitor_messages),
            visitor_messages=visitor_messages,
        )
        shown: list[dict[str, Any]] = []  # the sources sent to the visitor, stored with the answer
        selection: Selection | None = None
        max_rounds = self.settings.max_tool_rounds
        upstream: list[dict[str, Any]] = []
        offered: list[dict[str, Any]] = []
        text: list[str] = []
        try:
            # inside the try: a Stop while the owner's passages are looked up is a Stop too
            # the owner's own answer to this question outranks their pages; close enough, it is the answer
            owner = await self.owner_answers.consult(
                turn.prompt, self.select_knowledge(turn), self.llm.model, turn.owner_answers_version
            )
            selection, llm = owner.selection, owner.direct or self.llm
            upstream = self.upstream_messages(turn, selection)
            for round_number in range(max_rounds + 1):
                # the last round offers no tools, so the model has to answer in words
                offered = self.tools.specs() if round_number < max_rounds else []
                text = []
                completion = Completion()
                yield RoundStarted()
                # aclosing: a visitor who leaves closes the upstream request now, not at GC time
                async with aclosing(llm.stream(upstream, offered)) as deltas:
                    async for delta in deltas:
                        if type(delta) is TextDelta:
                            if not text and report.first_token_at is None:
                                report.first_token_at = loop.time()
                            text.append(delta.content)
                            yield delta
                        elif isinstance(delta, Completion):
                            completion = delta
                # the server's figure, else an estimate marked as one (field note 13)
                said = "".join(text)
                self._count(report, completion.usage or estimate_round(upstream, offered, said, completion.tool_calls))
                if not completion.tool_calls:
                    # the sources follow the answer: the passages it cited, else those its text used
                    shown = attributed_sources(said, selection.passages if selection else (), ctx.passages_found)
                    if shown:
                        yield Sources(tuple(shown))
                    new_messages.append(
                        Message("assistant", said, now_ms(), sources=shown or None, turn_id=turn.turn_id)
                    )
                    break
                calls = completion.tool_calls
                async for tool_event in self._run_tools(calls, text, upstream, new_messages, ctx, report):
                    yield tool_event
                # before another model round: a turn that reached the daily budget goes no further
                if turn.budget is not None and await turn.budget.reached(report.cost_micro_usd):
                    report.outcome = failed(report)
                    report.budget_reached = True
                    yield Error(BUDGET_REACHED)
                    return
        except LLMError as exc:
            if text:  # a stream cut mid-answer was billed upstream: estimate what it used
                self._count(report, estimate_round(upstream, offered, "".join(text), []))
            report.outcome = failed(report)
            report.error_kind = exc.kind
            yield Error(exc.message)
            return
        except asyncio.CancelledError:
            if stop is None or not stop.requested:
                raise  # the visitor left, or shutdown: nothing is stored
            # the visitor pressed Stop: the cancellation has done its work (the upstream request
            # is closed); keep what they were shown, marked stopped
            task = asyncio.current_task()
            assert task is not None
            task.uncancel()
            # what the visitor was shown of the answer keeps the sources it used
            shown = attributed_sources("".join(text), selection.passages if selection else (), ctx.passages_found)
            if shown:
                yield Sources(tuple(shown))
            report.outcome = TurnOutcome.STOPPED
            report.messages = stopped_messages(new_messages, "".join(text), shown, turn.turn_id)
            yield End(stopped=True)
            return

        report.outcome = TurnOutcome.COMPLETED
        report.messages = new_messages
        yield End()

    def _count(self, report: TurnReport, usage: Usage) -> None:
        """Add one model round's usage to the turn, and its cost: once per round, never per chunk."""
        report.usage += usage
        report.cost_micro_usd = self.prices.cost_micro_usd(report.model, report.usage)

    async def _run_tools(
        self,
        calls: list[ToolCall],
        text: list[str],
        upstream: list[dict[str, Any]],
        new_messages: list[Message],
        ctx: ToolContext,
        report: TurnReport,
    ) -> AsyncIterator[ToolCalled | ToolOutput]:
        # every call first, before any runs: a client shows them as running until their outputs
        for call in calls:
            yield ToolCalled(call.id, call.name, call.arguments)
        call_message = Message(
            "assistant",
            "".join(text),
            now_ms(),
            tool_calls=[c.upstream() for c in calls],
        )
        upstream.append(upstream_message(call_message))
        new_messages.append(call_message)
        results = await asyncio.gather(*(self.tools.call(c.name, c.arguments, ctx) for c in calls))
        for call, result in zip(calls, results, strict=True):
            report.tool_results.append(result)
            tool_message = Message("tool", result.result, now_ms(), tool_call_id=call.id, name=call.name)
            upstream.append(upstream_message(tool_message))
            new_messages.append(tool_message)
            yield ToolOutput(call.id, result.tool_name, call.arguments, result.result, result.ok)


def failed(report: TurnReport) -> TurnOutcome:
    """How a turn that failed now ended: before or after the visitor saw text."""
    if report.first_token_at is None:
        return TurnOutcome.FAILED_BEFORE_TEXT
    return TurnOutcome.FAILED_AFTER_TEXT


def stopped_messages(
    new_messages: list[Message], text: str, sources: list[dict[str, Any]] | None = None, turn_id: str | None = None
) -> list[Message]:
    """What a stopped turn stores: its complete messages, then the answer it was writing, marked
    stopped. A tool call cut before its results is kept as plain text: a history must never hold
    an assistant `tool_calls` message without the tool messages answering it (the model's API
    refuses such a history)."""
    kept = list(new_messages)
    last = kept[-1]
    if last.tool_calls:  # stopped while its tools ran: `text` is already its content
        kept[-1] = Message("assistant", last.content, last.timestamp, stopped=True, turn_id=turn_id)
    else:
        kept.append(Message("assistant", text, now_ms(), sources=sources or None, stopped=True, turn_id=turn_id))
    return kept
