"""POST /stream: one chat turn as Server-Sent Events."""

from __future__ import annotations

import asyncio
import logging
import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from ..chat import Turn, TurnReport
from ..clock import now_ms
from ..deps import TurnContextDep
from ..errors import NotFound, Unprocessable
from ..observability import Metrics
from ..quota import GLOBAL_SUBJECT, QuotaDecision
from ..store import CounterStore, StoreError
from ..wire.stream import STREAM_ENCODER
from .quota import charge
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


def parse_session_id(session_id: str) -> str:
    """Session ids are uuid4 strings; anything else cannot name a session."""
    try:
        return str(uuid.UUID(session_id))
    except ValueError as exc:
        raise NotFound(f"Session not found: {session_id[:64]!r}") from exc


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
    limiter, bounds, metrics = context.limiter, context.bounds, context.metrics
    if len(body.prompt) > settings.prompt_max_chars:
        raise Unprocessable(f"Prompt is too long: at most {settings.prompt_max_chars} characters.")
    turn = Turn(prompt=body.prompt, visitor=visitor.key)
    if body.session_id is not None:
        turn.session_id = parse_session_id(body.session_id)
        record = await stores.sessions.load(turn.session_id, now_ms())
        if record is None:
            raise NotFound(f"Session not found or expired: {turn.session_id}")
        turn.history = record.messages

    charges = [(bounds.chat, visitor.key), (bounds.streams, visitor.key)]
    if bounds.global_daily is not None:
        charges.append((bounds.global_daily, GLOBAL_SUBJECT))
    decisions = await charge(limiter, settings, metrics, charges)
    if decisions is not None:
        turn.release_key = decisions[1].key
    if settings.log_prompts:
        log.info("prompt", extra={"prompt": body.prompt, "session_id": turn.session_id})

    report = TurnReport()
    return EventStreamResponse(
        chat.run_turn(turn, report),
        encoder=STREAM_ENCODER,
        headers=decisions[0].headers() if decisions else {},
        keepalive_seconds=settings.keepalive_seconds,
        on_close=lambda: _settle(stores.counters, metrics, decisions, report),
    )


async def _settle(
    counters: CounterStore,
    metrics: Metrics,
    decisions: list[QuotaDecision] | None,
    report: TurnReport,
) -> None:
    """After the stream: give back the open-stream slot unless the append did, refund a failed turn.

    Refund policy: a turn whose upstream failed before any text reached the visitor is not
    charged (the visitor got nothing, and the failure was ours). Once text has streamed, the
    turn counts, whether it finished, failed or the visitor left; a visitor who leaves while
    waiting for the first token is charged too, since the upstream call was made for them. A
    turn that never began (the visitor left at once) costs nothing.
    """
    _observe(metrics, report)
    if decisions is None:
        return
    keys = [] if report.completed and report.slot_released else [decisions[1].key]
    never_ran = not report.started_at  # the visitor left before the turn began
    if never_ran or (report.failed and not report.streamed_text):
        keys += [decisions[0].key] + [decision.key for decision in decisions[2:]]
    if keys:
        try:
            await counters.release(*keys)
        except StoreError:
            log.warning("could not release quota counters %s", keys)


def _observe(metrics: Metrics, report: TurnReport) -> None:
    """Record a finished turn: once per turn, never on the per-chunk path."""
    if not report.started_at:
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
    outcome = "completed" if report.completed else "failed" if report.failed else "abandoned"
    metrics.turns.labels(outcome).inc()
