"""An open-stream slot for a stream that is not a turn: a reattach to a running answer.

A turn's own slot is charged with the turn (turn.py) and given back when it ends. A reattach
(GET /stream/{turn_id}, GET /api/chat/{id}/stream) holds one more while its response is open, so
one visitor cannot hold any number of streams open by reattaching (issue 25).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from ..errors import StoreError
from .bounds import Bounds
from .limiter import Limiter

log = logging.getLogger(__name__)


async def hold_stream_slot(limiter: Limiter, bounds: Bounds, visitor: str) -> Callable[[], Awaitable[None]]:
    """Take one of the visitor's open-stream slots, or raise RateLimited (429, X-RateLimit-*).

    Returns what gives it back, for when the stream ends; with the store down and the limiter
    failing open, nothing was taken and it gives back nothing."""
    decisions = await limiter.admit([(bounds.streams, visitor)])

    async def give_back() -> None:
        if decisions is None:
            return
        try:
            await limiter.give_back(decisions)
        except StoreError:  # the slot's counter expires on its own (OPEN_STREAM_TTL_SECONDS)
            log.warning("could not give back an open-stream slot of %s", visitor)

    return give_back
