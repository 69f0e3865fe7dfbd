"""GET /rate-limit-info, and `charge()`: how every route applies a quota."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi import APIRouter

from ..deps import BoundsDep, LimiterDep, VisitorDep
from ..errors import RateLimited
from ..observability import Metrics
from ..quota import Bound, Limiter, QuotaDecision
from ..settings import Settings
from ..store import StoreError

log = logging.getLogger(__name__)
router = APIRouter(tags=["quota"])


async def charge(
    limiter: Limiter, settings: Settings, metrics: Metrics, charges: Sequence[tuple[Bound, str]]
) -> list[QuotaDecision] | None:
    """Charge every bound or raise 429 naming the one that refused; None when failing open."""
    try:
        decisions = await limiter.charge(charges)
    except StoreError as exc:
        if settings.rate_limit_fail_open:
            log.warning("quota store down, failing open: %s", exc)
            return None
        raise
    refused = next((decision for decision in decisions if not decision.allowed), None)
    if refused is not None:
        metrics.quota_rejections.labels(refused.bound.name).inc()
        raise RateLimited(
            f"{refused.bound.message} Try again after {refused.reset_iso}.",
            headers=refused.headers(),
            limit=refused.limit,
            reset=refused.reset,
            retry_after=refused.retry_after,
        )
    return decisions


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
