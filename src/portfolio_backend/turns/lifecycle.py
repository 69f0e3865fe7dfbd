"""A chat turn's lifecycle, in one place: admitted once, run, settled once.

Every entry point (POST /stream, POST /api/chat, and any later one) parses its own request into a
`TurnRequest`, calls `TurnLifecycle.start`, and encodes the `Answer`'s events in its own wire
format. Everything else a turn is happens here, the same for all of them:

    admission   the session's history (404 if unknown), then in ONE store batch the visitor's
                quota, the open-stream slot, a new session's charge, the global cap, the budget
                reservation, the resume buffer's beginning and the owner answers' version; a
                refusal gives back what the batch took (429, nothing kept)
    run         ChatService.run_turn: live (with a session: resumable and stoppable from any
                process, live/) or direct (without: the response's own)
    settlement  in ONE store batch: the history append and its transcript copy, the slot and
                any refund, the usage record and the resume buffer's last write (with the turn's
                last event); then metrics

Round trips per turn (docs/performance.md): with a session, 3 on Redis (the history, admission,
settlement) and 2 SQLite transactions (the history is read in admission's); without, 2 on either.
A live turn that runs past SYNC_SECONDS adds the flusher's writes, shared by all turns in flight.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..chat import ChatService, Error, StopRequest, Turn, TurnEvent, TurnOutcome, TurnReport, failed
from ..clock import now_ms
from ..errors import NotFound, RateLimited, ServiceUnavailable
from ..live import LiveTurn, LiveTurns, new_turn_id
from ..logs import log_prompt
from ..observability import Metrics
from ..quota import Bounds, Limiter, QuotaDecision, TurnCharges, turn_charges
from ..quota.limiter import ChargePlan
from ..settings import Settings
from ..store import CounterState, Message, SessionRecord, StoreError, Stores
from ..store.base import Step
from ..store.usage import BudgetState, Reservation
from ..usage.ledger import Admission, SpendLedger, budget_decision

log = logging.getLogger(__name__)

TURN_ID_HEADER = "X-Turn-Id"
NOT_SAVED_MESSAGE = "The answer could not be saved to the session history."
OVERLOADED_MESSAGE = "The assistant is busy right now. Please try again in a moment."
OVERLOADED_RETRY_SECONDS = 1

# The refund rule (docs/architecture.md): a turn costs nothing when nothing ran, or when it failed
# before any text reached the visitor (the failure was ours). Once text has streamed, or the model
# was asked and the visitor left, it counts: the tokens were paid for. A live turn is settled when
# it ends, not when a response closes: one the visitor stopped counts, and so does one cancelled
# because nobody read it within the grace period (abandoned).
REFUNDED = frozenset({TurnOutcome.NEVER_STARTED, TurnOutcome.FAILED_BEFORE_TEXT})


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """What an entry point asks for: a visitor's prompt and the conversation it continues."""

    prompt: str
    visitor: str
    session_id: str | None = None  # continue this session (404 if unknown or expired)
    # an AI SDK chat of the visitor (api/ai_sdk.py): its session, or a new one it is charged for
    chat_id: str | None = None
    # a new conversation (an MCP agent's first question): a new session, charged as POST /session
    new_session: bool = False
    prompt_client_id: str | None = None  # the client's id of the prompt's message, kept with it
    # where in the history the turn this one replaces starts (a regenerate or an edit), or None
    replaced_turn_start: Callable[[list[Message]], int | None] | None = None
    # a live turn whose last reader leaves is stopped (what it said is kept) rather than kept
    # running RESUME_GRACE_SECONDS for a reattach
    stop_on_disconnect: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    """A started turn, for a route to encode: its events from the first, and its headers."""

    events: AsyncIterator[TurnEvent]
    headers: dict[str, str]
    session_id: str | None
    turn_id: str | None  # a live turn's: resumable and stoppable by it
    # a direct turn is settled when its response closes; a live one when it ends, by itself
    on_close: Callable[[], Awaitable[None]] | None = None


@dataclass(slots=True)
class _Admitted:
    turn: Turn
    charges: TurnCharges | None  # None: failing open, nothing was charged
    admission: Admission | None  # None: failing open, nothing was reserved
    report: TurnReport
    settled: bool = False
    begun: bool = False  # its resume buffer was begun by its admission


class TurnLifecycle:
    """Admits, runs and settles chat turns: one per process, built by the lifespan."""

    def __init__(
        self,
        *,
        settings: Settings,
        stores: Stores,
        chat: ChatService,
        limiter: Limiter,
        bounds: Bounds,
        ledger: SpendLedger,
        live: LiveTurns,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.stores = stores
        self.chat = chat
        self.limiter = limiter
        self.bounds = bounds
        self.ledger = ledger
        self.live = live
        self.metrics = metrics
        self.in_flight = 0  # turns admitted (or being admitted) and not yet settled

    @property
    def at_capacity(self) -> bool:
        """Whether a new turn would be refused now (MAX_INFLIGHT_TURNS); the request edge asks it
        before a body is read, `start` again for every entry point."""
        limit = self.settings.max_inflight_turns
        return bool(limit) and self.in_flight >= limit

    async def start(self, request: TurnRequest) -> Answer:
        """Admit the turn and start it; raises NotFound, RateLimited, ServiceUnavailable (overload,
        or the store), Conflict (a replaced turn that is not the last), charging nothing then."""
        if self.at_capacity:
            # refused at once and uncharged: a saturated process that queued it would answer late
            # or time out on the upstream, after charging the visitor
            self.metrics.overload_refusals.inc()
            raise ServiceUnavailable(OVERLOADED_MESSAGE, headers={"Retry-After": str(OVERLOADED_RETRY_SECONDS)})
        self.in_flight += 1
        try:
            admitted = await self._admit(request)
        except BaseException:
            self.in_flight -= 1
            raise
        if self.settings.log_prompts:
            log_prompt(request.prompt, admitted.turn.session_id)
        return self._run(admitted, stop_on_disconnect=request.stop_on_disconnect)

    # -- admission -----------------------------------------------------------------------------

    async def _admit(self, request: TurnRequest) -> _Admitted:
        settings, stores = self.settings, self.stores
        now = now_ms()
        session_id = request.session_id
        if request.chat_id is not None:
            session_id = await stores.chats.find(request.visitor, request.chat_id, now, settings.session_ttl_seconds)
        planned: list[_Plan] = []

        def plan(record: SessionRecord | None) -> Sequence[Step[Any]]:
            if session_id is not None and record is None and request.chat_id is None:
                return []  # an unknown session: 404, nothing charged
            planned.append(self._plan(request, record))
            return planned[0].steps

        try:
            if session_id is None:
                results = await stores.backend.run_steps(plan(None))
            else:
                _, results = await stores.backend.run_then(stores.sessions.load_step(session_id, now), plan)
        except StoreError as exc:
            if not settings.rate_limit_fail_open:
                raise
            log.warning("quota store down, failing open: %s", exc)
            return await self._admit_uncharged(request, session_id, now)
        if not planned:
            raise NotFound(f"Session not found or expired: {session_id}")
        return await self._decide(planned[0], results)

    def _plan(self, request: TurnRequest, record: SessionRecord | None) -> _Plan:
        """The turn and its admission's steps (on SQLite, inside the transaction that read `record`)."""
        turn = self._turn(request, record)
        new_session = turn.session_id is None and (request.chat_id is not None or request.new_session)
        charges = self.limiter.plan(turn_charges(self.bounds, request.visitor, new_session=new_session))
        reservation = self.ledger.reservation(request.visitor, self.chat.first_request_usage(turn))
        steps: list[Step[Any]] = [
            self.limiter.hit_step(charges),
            self.ledger.reserve_step(reservation),
            self.stores.answers.version_step(),  # the owner answers this turn matches against
        ]
        turn_id, sync = None, self.live.sync
        if turn.session_id is not None:
            turn_id = new_turn_id()
            if sync is not None:  # another process finds the turn from its first event on
                steps.append(sync.begin_step(turn_id, turn.session_id))
        begun = turn_id is not None and sync is not None
        return _Plan(turn, charges, reservation, new_session, request.chat_id, steps, turn_id, begun)

    def _turn(self, request: TurnRequest, record: SessionRecord | None) -> Turn:
        history = record.messages if record is not None else []
        start = None
        if request.replaced_turn_start is not None and record is not None:
            start = request.replaced_turn_start(history)  # raises Conflict: before anything is charged
        return Turn(
            prompt=request.prompt,
            visitor=request.visitor,
            session_id=record.meta.session_id if record is not None else None,
            history=history if start is None else history[:start],
            replaces_last_turn=start is not None,
            prompt_client_id=request.prompt_client_id,
        )

    async def _decide(self, plan: _Plan, results: list[Any]) -> _Admitted:
        """Admit or refuse on what the batch answered; a refusal gives back what the batch took."""
        counter_state: CounterState = results[0]
        budget: BudgetState = results[1]
        answers_version: int = results[2]
        decisions = self.limiter.decisions(plan.charges, counter_state)
        refusal = self.limiter.refusal(decisions)
        if refusal is not None:
            await self._give_back(reservation=plan.reservation if budget.allowed else None, unbegin=plan)
            raise refusal
        charges = TurnCharges.of(decisions, new_session=plan.new_session)
        admission = Admission(budget, plan.reservation, plan.charges.now)
        if budget.refused is not None:
            await self._give_back(charges.taken, unbegin=plan)
            self.metrics.quota_rejections.labels(budget.refused.value).inc()
            raise _budget_refusal(admission, self.ledger)
        new_session = _NewSession(plan.chat_id) if plan.new_session else None
        return await self._begin(
            plan.turn,
            charges,
            admission,
            new_session=new_session,
            turn_id=plan.turn_id,
            answers=answers_version,
            begun=plan.begun,
        )

    async def _admit_uncharged(self, request: TurnRequest, session_id: str | None, now: int) -> _Admitted:
        """RATE_LIMIT_FAIL_OPEN with the store down: the turn runs uncounted, if its session loads."""
        record = None
        if session_id is not None:
            record = await self.stores.sessions.load(session_id, now)
            if record is None and request.chat_id is None:
                raise NotFound(f"Session not found or expired: {session_id}")
        turn = self._turn(request, record)
        creates = turn.session_id is None and (request.chat_id is not None or request.new_session)
        return await self._begin(turn, None, None, new_session=_NewSession(request.chat_id) if creates else None)

    async def _begin(
        self,
        turn: Turn,
        charges: TurnCharges | None,
        admission: Admission | None,
        *,
        new_session: _NewSession | None,
        turn_id: str | None = None,
        answers: int | None = None,
        begun: bool = False,
    ) -> _Admitted:
        """The admitted turn, its id, its budget and, for a new chat or conversation, its session."""
        session_id = turn.session_id
        if new_session is not None:
            try:
                session_id = await self._start_session(turn.visitor, new_session.chat_id)
            except StoreError:
                # never started, and no session made: everything is given back
                await self._give_back(charges.taken if charges else [], admission.reservation if admission else None)
                raise
        turn = replace(
            turn,
            session_id=session_id,
            budget=self.ledger.running(admission.reservation) if admission else None,
            turn_id=turn_id or (new_turn_id() if session_id is not None else None),
            owner_answers_version=answers,
        )
        return _Admitted(turn, charges, admission, TurnReport(), begun=begun)

    async def _start_session(self, visitor: str, chat_id: str | None) -> str:
        """A new session for a new AI SDK chat (bound to `chat_id`) or conversation, owned by its
        visitor, with POST /session's TTL.

        The session id is a new uuid4, never derived from the chat id: a chat id is chosen by the
        client and may be known to others, a session id is a bearer secret (GET /session/{id}).
        """
        stores, ttl, now = self.stores, self.settings.session_ttl_seconds, now_ms()
        meta = await stores.sessions.create(str(uuid.uuid4()), visitor, now, ttl)
        if chat_id is not None:
            await stores.chats.bind(visitor, chat_id, meta.session_id, now, ttl)
        return meta.session_id

    # -- run -----------------------------------------------------------------------------------

    def _run(self, admitted: _Admitted, *, stop_on_disconnect: bool = False) -> Answer:
        turn, charges = admitted.turn, admitted.charges
        headers = charges.turn.headers() if charges else {}
        stop = StopRequest()
        events = self.chat.run_turn(turn, admitted.report, stop)
        if turn.turn_id is None:  # no session, no resume: the turn is its response's alone

            async def on_close() -> None:
                await self._settle(admitted, None, None)

            return Answer(events, headers, None, None, on_close=on_close)

        async def on_end(live: LiveTurn, last: TurnEvent | None) -> TurnEvent | None:
            return await self._settle(admitted, live, last)

        live = self.live.start(
            turn.turn_id,
            turn.session_id,
            events,
            stop,
            on_end,
            begun=admitted.begun,
            stop_on_disconnect=stop_on_disconnect,
        )
        return Answer(live.follow(0), {**headers, TURN_ID_HEADER: live.turn_id}, turn.session_id, live.turn_id)

    # -- settlement ----------------------------------------------------------------------------

    async def _settle(self, admitted: _Admitted, live: LiveTurn | None, last: TurnEvent | None) -> TurnEvent | None:
        """Store, account and give back in one batch; answer the event the turn ends with."""
        if admitted.settled:
            return last
        admitted.settled = True
        try:
            return await self._settle_once(admitted, live, last)
        finally:
            self.in_flight -= 1
            _observe(self.metrics, admitted.report)

    async def _settle_once(
        self, admitted: _Admitted, live: LiveTurn | None, last: TurnEvent | None
    ) -> TurnEvent | None:
        settings, stores = self.settings, self.stores
        turn, report, charges, admission = admitted.turn, admitted.report, admitted.charges, admitted.admission
        steps: list[Step[Any]] = []
        appending = turn.session_id is not None and report.messages is not None
        if appending:
            assert turn.session_id is not None
            assert report.messages is not None
            steps.append(
                stores.sessions.append_turn_step(
                    turn.session_id,
                    report.messages,
                    now_ms(),
                    settings.session_ttl_seconds,
                    settings.session_max_messages,
                    replace_last_turn=turn.replaces_last_turn,
                )
            )
            # the owner's copy, kept past the session (store/transcripts): same batch, no round trip
            steps.append(
                stores.transcripts.keep_step(
                    turn.session_id, turn.visitor, report.messages, now_ms(), settings.transcript_retention_days
                )
            )
        refunded = report.outcome in REFUNDED
        if charges is not None:
            given_back = [charges.open_stream, *(charges.spent if refunded else [])]
            steps.append(stores.counters.release_step(_keys(given_back)))
        if admission is not None:
            steps.append(
                self.ledger.settle_step(admission.reservation, turn.session_id, report.usage, report.cost_micro_usd)
            )
        final = None
        sync = self.live.sync
        if live is not None and sync is not None:
            final = sync.final_step(live, last)
            if final is not None:
                steps.append(final)
        try:
            results = await stores.backend.run_steps(steps)
        except StoreError as exc:
            # the request id correlates it; a session id is a secret and stays out of logs
            log.warning("could not settle a turn: %s", exc)
            if live is not None and sync is not None:
                sync.settled(live, None)
            if not appending:
                return last
            report.outcome = failed(report)
            return Error(NOT_SAVED_MESSAGE)
        if final is not None and live is not None and sync is not None:
            sync.settled(live, results[-1])
        if appending and not results[0]:  # the session is gone (deleted or expired mid-turn)
            report.outcome = failed(report)
            if report.outcome in REFUNDED and not refunded and charges is not None:
                await self._give_back(charges.spent)
            return Error(NOT_SAVED_MESSAGE)
        return last

    async def _give_back(
        self,
        decisions: Sequence[QuotaDecision] = (),
        reservation: Reservation | None = None,
        unbegin: _Plan | None = None,
    ) -> None:
        """Give back what a turn that will not run took (one round trip): charges, a reservation,
        and the resume buffer its admission began (marked ended: it never ran)."""
        steps: list[Step[Any]] = []
        if decisions:
            steps.append(self.stores.counters.release_step(_keys(decisions)))
        if reservation is not None:
            steps.append(self.ledger.store.release_step(reservation))
        sync = self.live.sync
        if unbegin is not None and unbegin.begun and unbegin.turn_id is not None and sync is not None:
            steps.append(sync.end_step(unbegin.turn_id))
        if not steps:
            return
        try:
            await self.stores.backend.run_steps(steps)
        except StoreError:
            log.warning("could not give back quota counters %s", _keys(decisions))


@dataclass(frozen=True, slots=True)
class _NewSession:
    chat_id: str | None  # the AI SDK chat it is bound to, if any


@dataclass(frozen=True, slots=True)
class _Plan:
    turn: Turn
    charges: ChargePlan
    reservation: Reservation
    new_session: bool  # the turn creates its session (a new chat or conversation)
    chat_id: str | None  # a new chat's id, bound to the new session
    steps: list[Step[Any]]
    turn_id: str | None  # a turn continuing a session: its live turn's id
    begun: bool  # its resume buffer is begun by the admission's batch


def _keys(decisions: Sequence[QuotaDecision]) -> list[str]:
    return [decision.key for decision in decisions]


def _budget_refusal(admission: Admission, ledger: SpendLedger) -> RateLimited:
    """A 429 that lasts until the next UTC midnight, naming the budget."""
    refused = admission.state.refused
    assert refused is not None
    return budget_decision(admission, ledger.budgets).refusal(budget=refused.value)


def _observe(metrics: Metrics, report: TurnReport) -> None:
    """Record a finished turn: once per turn, never on the per-chunk path."""
    if report.started_at is None:
        return  # the visitor left before the turn began: nothing ran
    now = asyncio.get_running_loop().time()
    metrics.stream_seconds.observe(now - report.started_at)
    if report.first_token_at is not None:
        metrics.ttft_seconds.observe(report.first_token_at - report.started_at)
    metrics.count_usage(report.model, report.usage, report.cost_micro_usd)
    for result in report.tool_results:
        metrics.tool_calls.labels(result.tool_name, "ok" if result.ok else "error").inc()
    if report.error_kind is not None:
        metrics.upstream_errors.labels(report.error_kind).inc()
    metrics.turns.labels(_OUTCOME_LABELS[report.outcome]).inc()


_OUTCOME_LABELS = {
    TurnOutcome.COMPLETED: "completed",
    TurnOutcome.FAILED_BEFORE_TEXT: "failed",
    TurnOutcome.FAILED_AFTER_TEXT: "failed",
    TurnOutcome.ABANDONED: "abandoned",
    TurnOutcome.STOPPED: "stopped",
}
