"""POST /stream: one chat turn as Server-Sent Events."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from ..chat import Turn, TurnOutcome, TurnReport
from ..clock import now_ms
from ..deps import TurnContextDep
from ..errors import NotFound, Unprocessable
from ..observability import Metrics
from ..quota import Limiter, TurnCharges, charge_turn
from ..store import StoreError
from ..wire.stream import STREAM_ENCODER
from .session_views import parse_session_id
from .sse import EventStreamResponse

log = logging.getLogger(__name__)
router = APIRouter(tags=["chat"])


class StreamRequest(BaseModel):
    prompt: str = Field(
        ...,
        description="The visitor's message.",
        examples=["What is the current time?"],
    )
    session_id: str | None = Field(None, max_length=64, description="Continue this session's conversation.")

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Prompt cannot be empty")
        return value


@router.post(
    "/stream",
    response_class=EventStreamResponse,
    status_code=200,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`data: <json>` events: chunk, tool_result, end, error.",
        },
        404: {"description": "Unknown session"},
        422: {"description": "Invalid request"},
        429: {"description": "Quota exceeded"},
    },
)
async def stream(body: StreamRequest, context: TurnContextDep) -> EventStreamResponse:
    """Stream the assistant's answer to a prompt, token by token, with tool results."""
    visitor, settings, stores, chat = context.visitor, context.settings, context.stores, context.chat
    limiter, metrics = context.limiter, context.metrics
    if len(body.prompt) > settings.prompt_max_chars:
        raise Unprocessable(f"Prompt is too long: at most {settings.prompt_max_chars} characters.")
    turn = Turn(prompt=body.prompt, visitor=visitor.key)
    if body.session_id is not None:
        turn.session_id = parse_session_id(body.session_id)
        record = await stores.sessions.load(turn.session_id, now_ms())
        if record is None:
            raise NotFound(f"Session not found or expired: {turn.session_id}")
        turn.history = record.messages

    charges = await charge_turn(limiter, context.bounds, visitor.key)
    if charges is not None:
        turn.release_key = charges.open_stream.key
    if settings.log_prompts:
        log.info("prompt", extra={"prompt": body.prompt, "session_id": turn.session_id})

    report = TurnReport()
    return EventStreamResponse(
        chat.run_turn(turn, report),
        encoder=STREAM_ENCODER,
        headers=charges.turn.headers() if charges else {},
        keepalive_seconds=settings.keepalive_seconds,
        on_close=lambda: settle_turn(limiter, metrics, charges, report),
    )


# The refund rule (docs/architecture.md): a turn costs nothing when nothing ran, or when it failed
# before any text reached the visitor (the failure was ours). Once text has streamed, or the model
# was asked and the visitor left, it counts: the tokens were paid for.
REFUNDED = frozenset({TurnOutcome.NEVER_STARTED, TurnOutcome.FAILED_BEFORE_TEXT})


async def settle_turn(limiter: Limiter, metrics: Metrics, charges: TurnCharges | None, report: TurnReport) -> None:
    """After the stream: give back the open-stream slot unless the final append did, and refund
    the turn when its outcome is one the refund rule lets off."""
    _observe(metrics, report)
    if charges is None:
        return  # failing open: nothing was charged
    give_back = [] if report.slot_released else [charges.open_stream]
    if report.outcome in REFUNDED:
        give_back += charges.spent
    try:
        await limiter.give_back(give_back)
    except StoreError:
        log.warning("could not give back quota counters %s", [decision.key for decision in give_back])


def _observe(metrics: Metrics, report: TurnReport) -> None:
    """Record a finished turn: once per turn, never on the per-chunk path."""
    if report.started_at is None:
        return  # the visitor left before the turn began: nothing ran
    now = asyncio.get_running_loop().time()
    metrics.stream_seconds.observe(now - report.started_at)
    if report.first_token_at is not None:
        metrics.ttft_seconds.observe(report.first_token_at - report.started_at)
    metrics.tokens.labels("in").inc(report.prompt_tokens)
    metrics.tokens.labels("out").inc(report.completion_tokens)
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
}
