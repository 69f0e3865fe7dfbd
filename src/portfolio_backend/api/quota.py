"""GET /rate-limit-info: the caller's chat quota."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import BoundsDep, LimiterDep, VisitorDep

router = APIRouter(tags=["quota"])


@router.get("/rate-limit-info")
async def rate_limit_info(visitor: VisitorDep, limiter: LimiterDep, bounds: BoundsDep) -> dict[str, object]:
    """Your current chat quota; reading it spends nothing."""
    decision = await limiter.peek(bounds.chat, visitor.key)
    return {
        "ip": visitor.ip,
        "visitor": visitor.key,
        "current_requests": decision.count,
        "limit": decision.limit,
        "remaining": decision.remaining,
        "window": str(bounds.chat.rate),
        "reset": decision.reset,
        "reset_in_seconds": max(0, int(decision.reset - decision.now)),
        "reset_at": decision.reset_iso,
    }
