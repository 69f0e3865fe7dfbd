"""GET /admin/api/feedback: visitors' ratings of answers, newest first (the console lists the 👎 ones)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from ...deps import StoresDep

router = APIRouter(prefix="/api", tags=["admin"])


@router.get("/feedback")
async def list_feedback(
    stores: StoresDep,
    rating: Annotated[Literal["up", "down"] | None, Query(description="Only 👍 (up) or 👎 (down).")] = None,
    count: Annotated[int, Query(ge=1, le=1000, description="How many, newest first.")] = 100,
) -> dict[str, Any]:
    """Ratings visitors gave answers, newest first: the question, the answer, the comment and the session."""
    return {"feedback": [asdict(item) for item in await stores.feedback.newest(count, rating)]}
