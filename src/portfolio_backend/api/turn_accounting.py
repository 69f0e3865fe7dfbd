"""What a chat turn over HTTP is charged and given back, shared by POST /stream and POST /api/chat:
the budget admission before it runs, and its settlement (usage, refunds, metrics) when it ends."""

from __future__ import annotations

import asyncio
import logging

from ..chat import Turn, TurnOutcome, TurnReport
from ..deps import TurnContext
from ..errors import RateLimited
from ..observability import Metrics
from ..quota import Limiter, QuotaDecision, TurnCharges
from ..store import StoreError
from ..usage.ledger import Admission, SpendLedger, budget_decision

log = logging.getLogger(__name__)


# The refund rule (docs/architecture.md): a turn costs nothing when nothing ran, or when it failed
# before any text reached the visitor (the failure was ours). Once text has streamed, or the model
# was asked and the visitor left, it counts: the tokens were paid for. A live turn is settled when
# it ends, not when a response closes: one the visitor stopped counts, and so does one cancelled
# because nobody read it within the grace period (abandoned).
REFUNDED = frozenset({TurnOutcome.NEVER_STARTED, TurnOutcome.FAILED_BEFORE_TEXT})


async def admit_budget(context: TurnContext, turn: Turn, charges: TurnCharges | None) -> Admission | None:
    """Reserve the turn's first request against the budgets, or refuse it with a 429 that lasts
    until the next UTC midnight (giving back what the turn was charged). None when failing open."""
    ledger, limiter = context.ledger, context.limiter
    try:
        admission = await ledger.admit(turn.visitor, context.chat.first_request_usage(turn))
    except StoreError as exc:
        if context.settings.rate_limit_fail_open:
            log.warning("usage store down, failing open: %s", exc)
            return None
        await give_back_all(limiter, charges)
        raise
    refused = admission.state.refused
    if refused is None:
        turn.budget = ledger.running(admission.reservation)
        return admission
    await give_back_all(limiter, charges)
    context.metrics.quota_rejections.labels(refused.value).inc()
    decision = budget_decision(admission, ledger.budgets)
    raise RateLimited(
        f"{decision.bound.message} Try again after {decision.reset_iso}.",
        headers=decision.headers(),
        limit=decision.limit,
        reset=decision.reset,
        retry_after=decision.retry_after,
        budget=refused.value,
    )


async def give_back_all(limiter: Limiter, charges: TurnCharges | None) -> None:
    """Give back everything a turn that will not run was charged (a session it would have created too)."""
    if charges is not None:
        await _give_back(limiter, charges.taken)


async def give_back_session(limiter: Limiter, charges: TurnCharges | None) -> None:
    """Give back the session charge of a turn whose session the store failed to create."""
    if charges is not None and charges.session is not None:
        await _give_back(limiter, [charges.session])


async def _give_back(limiter: Limiter, decisions: list[QuotaDecision]) -> None:
    try:
        await limiter.give_back(decisions)
    except StoreError:
        log.warning("could not give back quota counters %s", [decision.key for decision in decisions])


async def settle_turn(
    limiter: Limiter,
    metrics: Metrics,
    charges: TurnCharges | None,
    report: TurnReport,
    ledger: SpendLedger | None = None,
    admission: Admission | None = None,
    session_id: str | None = None,
) -> None:
    """After the stream: record what the turn spent, give back the open-stream slot unless the
    final append did, and refund the turn when its outcome is one the refund rule lets off."""
    _observe(metrics, report)
    if ledger is not None and admission is not None:
        try:
            await ledger.settle(admission.reservation, session_id, report.usage, report.cost_micro_usd)
        except StoreError:
            log.warning("could not record the usage of a turn: %s", report.usage, exc_info=True)
    if charges is None:
        return  # failing open: nothing was charged
    give_back = [] if report.slot_released else [charges.open_stream]
    if report.outcome in REFUNDED:
        give_back += charges.spent
    await _give_back(limiter, give_back)


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
