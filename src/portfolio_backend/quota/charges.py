"""What a chat turn is charged, by name, so settlement can say what it gives back."""

from __future__ import annotations

from dataclasses import dataclass

from .bounds import GLOBAL_SUBJECT, Bounds
from .limiter import Bound, QuotaDecision


@dataclass(frozen=True, slots=True)
class TurnCharges:
    """The charges of one chat turn (POST /stream, POST /api/chat), taken together in one atomic step."""

    turn: QuotaDecision  # the visitor's chat quota; its X-RateLimit-* headers go on the response
    open_stream: QuotaDecision  # a slot held while the stream is open, given back when it ends
    global_daily: QuotaDecision | None  # the service-wide daily cap, when GLOBAL_DAILY_REQUESTS is set
    # a session the turn creates (a new AI SDK chat), charged as POST /session is: kept once the
    # session exists, whatever becomes of the turn
    session: QuotaDecision | None = None

    @property
    def spent(self) -> list[QuotaDecision]:
        """What the turn costs the visitor and the service: refunded together, or not at all."""
        return [self.turn] if self.global_daily is None else [self.turn, self.global_daily]

    @classmethod
    def of(cls, decisions: list[QuotaDecision], *, new_session: bool) -> TurnCharges:
        """The charges from the decisions on `turn_charges`, in its order."""
        turn, open_stream, *rest = decisions
        session = rest.pop(0) if new_session else None
        return cls(turn, open_stream, rest[0] if rest else None, session)

    @property
    def taken(self) -> list[QuotaDecision]:
        """Everything charged: what a turn that will not run gives back."""
        return [self.open_stream, *self.spent, *([self.session] if self.session is not None else [])]


def turn_charges(bounds: Bounds, visitor: str, *, new_session: bool = False) -> list[tuple[Bound, str]]:
    """What a turn is charged, in `TurnCharges.of`'s order. `new_session`: the turn creates a
    session, so the session quota is charged in the same step: a turn refused by any bound
    creates and costs nothing."""
    charges = [(bounds.chat, visitor), (bounds.streams, visitor)]
    if new_session:
        charges.append((bounds.sessions, visitor))
    if bounds.global_daily is not None:
        charges.append((bounds.global_daily, GLOBAL_SUBJECT))
    return charges
