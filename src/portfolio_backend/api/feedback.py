"""POST /feedback: a visitor's 👍/👎 on one of their answers, with an optional comment."""

from __future__ import annotations

from typing import Literal, Self

from fastapi import APIRouter, Response
from pydantic import Field, model_validator

from ..clock import now_ms
from ..deps import BoundsDep, LimiterDep, MetricsDep, StoresDep, VisitorDep
from ..errors import NotFound
from ..feedback import rate_answer
from .body import RequestBody
from .live_answers import TURN_ID

router = APIRouter(tags=["feedback"])

COMMENT_MAX_CHARS = 1000


class FeedbackRequest(RequestBody):
    turn_id: str | None = Field(
        None, pattern=TURN_ID.pattern, description="The answer's turn id: `X-Turn-Id`, or `turn_id` in the history."
    )
    message_id: str | None = Field(
        None,
        pattern=TURN_ID.pattern,
        description="The AI SDK's assistant message id (the `start` part's `messageId`): the same turn id.",
    )
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=COMMENT_MAX_CHARS)

    @model_validator(mode="after")
    def _names_one_answer(self) -> Self:
        if self.turn_id is None and self.message_id is None:
            raise ValueError("give turn_id or message_id")
        if self.turn_id is not None and self.message_id is not None and self.turn_id != self.message_id:
            raise ValueError("turn_id and message_id name different answers")
        return self

    @property
    def answer_id(self) -> str:
        return self.turn_id or self.message_id or ""


@router.post(
    "/feedback",
    status_code=204,
    responses={
        204: {"description": "Kept; a later rating of the same answer replaces it"},
        404: {"description": "No such answer of yours"},
        422: {"description": "Bad body"},
        429: {"description": "Too many ratings (FEEDBACK_LIMIT)"},
    },
)
async def give_feedback(
    body: FeedbackRequest,
    visitor: VisitorDep,
    stores: StoresDep,
    limiter: LimiterDep,
    bounds: BoundsDep,
    metrics: MetricsDep,
) -> Response:
    """Rate one of your answers 👍 or 👎, with an optional comment for the site owner."""
    await limiter.admit([(bounds.feedback, visitor.key)])
    comment = (body.comment or "").strip() or None
    if await rate_answer(stores, visitor.key, body.answer_id, body.rating, comment, now_ms()) is None:
        raise NotFound(f"No answer of yours with id {body.answer_id}")
    metrics.feedback.labels(body.rating).inc()
    return Response(status_code=204)
