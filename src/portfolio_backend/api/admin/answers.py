"""/admin/api/answers: the owner's own answers to questions, listed, written, edited and deleted.

The assistant uses them from the next turn on every replica (knowledge/owner_answers.py).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Response
from pydantic import Field, field_validator

from ...clock import now_ms
from ...deps import StoresDep
from ...errors import Conflict, NotFound
from ...store import ANSWERS_KEPT, OwnerAnswer
from ..body import RequestBody

router = APIRouter(prefix="/api", tags=["admin"])

# A question is one sentence or two; an answer a short paragraph the model is given whole.
QUESTION_MAX_CHARS = 500
ANSWER_MAX_CHARS = 4000
_ANSWER_ID = re.compile(r"^[0-9a-f]{32}$")


class OwnerAnswerBody(RequestBody):
    question: str = Field(..., min_length=1, max_length=QUESTION_MAX_CHARS, examples=["What are your rates?"])
    answer: str = Field(..., min_length=1, max_length=ANSWER_MAX_CHARS, examples=["650 EUR a day, or a fixed price."])

    @field_validator("question", "answer")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


def _known_id(answer_id: str) -> str:
    if not _ANSWER_ID.match(answer_id):
        raise NotFound(f"No owner answer with id {answer_id[:64]}")
    return answer_id


@router.get("/answers")
async def list_answers(stores: StoresDep) -> dict[str, Any]:
    """Every owner answer, most recently written first."""
    _, answers = await stores.answers.all()
    return {"answers": [asdict(answer) for answer in answers], "limit": ANSWERS_KEPT}


@router.post("/answers", status_code=201, responses={409: {"description": "The store holds its most answers"}})
async def add_answer(body: OwnerAnswerBody, stores: StoresDep) -> dict[str, Any]:
    """Write the right answer to a question; the assistant uses it from the next turn."""
    now = now_ms()
    answer = OwnerAnswer(uuid.uuid4().hex, body.question, body.answer, now, now)
    if not await stores.answers.add(answer):
        raise Conflict(f"At most {ANSWERS_KEPT} owner answers: delete one first.")
    return asdict(answer)


@router.put("/answers/{answer_id}", responses={404: {"description": "No such answer"}})
async def edit_answer(answer_id: str, body: OwnerAnswerBody, stores: StoresDep) -> dict[str, Any]:
    """Change an owner answer's question or text."""
    updated = await stores.answers.update(_known_id(answer_id), body.question, body.answer, now_ms())
    if updated is None:
        raise NotFound(f"No owner answer with id {answer_id}")
    return asdict(updated)


@router.delete("/answers/{answer_id}", status_code=204, responses={404: {"description": "No such answer"}})
async def delete_answer(answer_id: str, stores: StoresDep) -> Response:
    """Delete an owner answer; the assistant stops using it from the next turn."""
    if not await stores.answers.delete(_known_id(answer_id)):
        raise NotFound(f"No owner answer with id {answer_id}")
    return Response(status_code=204)
