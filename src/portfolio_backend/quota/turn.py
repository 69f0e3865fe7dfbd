"""What a chat turn is charged, by name, so settlement can say what it gives back."""

from __future__ import annotations

from dataclasses import dataclass

from .bounds import GLOBAL_SUBJECT, Bounds
from .limiter import Limiter, QuotaDecision


@dataclass(frozen=True, slots=True)
class TurnCharges:
    """The charges of one POST /stream, taken together in one atomic step."""

    turn: QuotaDecision  # the visitor's chat quota; its X-RateLimit-* headers go on the response
    open_stream: QuotaDecision  # a slot held while the stream is open, given back when it ends
    global_daily: QuotaDecision | None  # the service-wide daily cap, when GLOBAL_DAILY_REQUESTS is set

    @property
    def spent(self) -> list[QuotaDecision]:
        """What the turn costs the visitor and the service: refunded together, or not at all."""
        return [self.turn] if self.global_daily is None else [self.turn, self.global_daily]


async def charge_turn(limiter: Limiter, bounds: Bounds, visitor: str) -> TurnCharges | None:
    """Charge a turn or raise RateLimited; None when the store is down and the limiter fails open."""
    charges = [(bounds.chat, visitor), (bounds.streams, visitor)]
    if bounds.global_daily is not None:
        charges.append((bounds.global_daily, GLOBAL_SUBJECT))
    decisions = await limiter.admit(charges)
    if decisions is None:
        return None
    turn, open_stream, *global_daily = decisions
    return TurnCharges(turn, open_stream, global_daily[0] if global_daily else None)
