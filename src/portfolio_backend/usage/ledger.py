"""The spend ledger: what a turn may spend before it starts, whether a running turn may go on, and
what it spent once it ended, per UTC day in the shared store (field note 14).

Budgets: DAILY_BUDGET_USD for all visitors together, VISITOR_DAILY_TOKENS per visitor; 0 is none.

How far spend can pass a budget, and why: a turn is admitted only while the day's spend plus what
the turns in flight have reserved (each its first request's estimated prompt) is under the budget,
and a running turn checks the daily budget again before each further model round. What the
reservation did not cover (the answer's tokens and the rounds after the last check) can still be
spent, so the overspend is at most, for every turn in flight when the budget was reached, one model
round beyond its reservation. Turns in flight are bounded by MAX_OPEN_STREAMS_PER_VISITOR per visitor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..llm import Usage
from ..quota import Bound, QuotaDecision
from ..settings import RateSpec, Settings
from ..store import StoreError
from ..store.base import Step
from ..store.usage import DAY_SECONDS, BudgetKind, BudgetState, DayUsage, Reservation, TurnUsage, UsageStore
from .prices import PriceTable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Budgets:
    """The configured budgets; 0 means none."""

    daily_micro_usd: int
    visitor_daily_tokens: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Budgets:
        return cls(round(settings.daily_budget_usd * 1_000_000), settings.visitor_daily_tokens)


@dataclass(frozen=True, slots=True)
class Admission:
    """A turn's standing against the budgets before it starts: its reservation, or the refusal."""

    state: BudgetState
    reservation: Reservation
    now: float

    @property
    def reset(self) -> int:
        """Epoch seconds of the next UTC midnight, when every daily figure starts again."""
        return (self.reservation.day + 1) * DAY_SECONDS


def budget_decision(admission: Admission, budgets: Budgets) -> QuotaDecision:
    """A refused budget as a quota decision, so its 429 carries the usual headers, reset at the next
    UTC midnight. Its limit is in the budget's unit: tokens, or micro-dollars for the daily USD budget."""
    if admission.state.refused is BudgetKind.VISITOR_TOKENS:
        limit = budgets.visitor_daily_tokens
        bound = Bound(
            "visitor-tokens",
            RateSpec(limit, DAY_SECONDS),
            f"You have used today's share of the assistant ({limit} tokens a day).",
        )
        count = admission.state.visitor_tokens
    else:
        limit = budgets.daily_micro_usd
        bound = Bound(
            "daily-budget",
            RateSpec(limit, DAY_SECONDS),
            "The assistant has reached its daily budget. Please come back tomorrow.",
        )
        count = admission.state.day_micro_usd
    return QuotaDecision(False, bound, max(count, limit), admission.reset, admission.now, key="")


class SpendLedger:
    """Budgets and accounting for chat turns. `clock` (epoch seconds) is injectable so tests can
    roll midnight over; it is read once per turn, never on the per-chunk path."""

    def __init__(
        self,
        store: UsageStore,
        prices: PriceTable,
        settings: Settings,
        model: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.prices = prices
        self.model = model
        self.budgets = Budgets.from_settings(settings)
        self.keep_days = settings.usage_retention_days
        self.clock = clock

    def today(self) -> int:
        return int(self.clock() // DAY_SECONDS)

    def reservation(self, visitor: str, first_request: Usage) -> Reservation:
        """What a turn whose first request is `first_request` holds while it runs, from today."""
        return Reservation(
            day=self.today(),
            visitor=visitor,
            tokens=first_request.total_tokens,
            micro_usd=self.prices.cost_micro_usd(self.model, first_request),
        )

    def reserve_step(self, reservation: Reservation) -> Step[BudgetState]:
        """The reservation, unless a budget is already reached, as a step of the turn's admission."""
        return self.store.reserve_step(
            reservation,
            day_limit_micro_usd=self.budgets.daily_micro_usd,
            visitor_limit_tokens=self.budgets.visitor_daily_tokens,
            keep_days=self.keep_days,
        )

    def running(self, reservation: Reservation) -> DailyBudget | None:
        """What a running turn checks before each further model round; None without a daily budget."""
        return DailyBudget(self, reservation) if self.budgets.daily_micro_usd else None

    def settle_step(self, reservation: Reservation, session_id: str | None, usage: Usage, micro_usd: int) -> Step[None]:
        """Record a finished turn under the day it started, giving its reservation back; a turn
        that used nothing only gives the reservation back."""
        if not usage.total_tokens:
            return self.store.release_step(reservation)
        return self.store.record_step(
            TurnUsage(
                reservation=reservation,
                session_id=session_id,
                prompt_tokens=usage.prompt_tokens,
                cached_tokens=usage.cached_tokens,
                completion_tokens=usage.completion_tokens,
                micro_usd=micro_usd,
                estimated=usage.estimated,
            ),
            keep_days=self.keep_days,
        )

    async def last_days(self, count: int) -> list[DayUsage]:
        """The last `count` UTC days, today last."""
        today = self.today()
        return await self.store.days(today - count + 1, today)


@dataclass(frozen=True, slots=True)
class DailyBudget:
    """A running turn's check of DAILY_BUDGET_USD (chat.service.TurnBudget)."""

    ledger: SpendLedger
    reservation: Reservation

    async def reached(self, spent_micro_usd: int) -> bool:
        try:
            held = await self.ledger.store.day_micro_usd(self.reservation.day)
        except StoreError as exc:
            # the turn was admitted with the store up; one failed read does not end it
            log.warning("daily budget unreadable mid-turn: %s", exc)
            return False
        # the day's figure holds this turn's reservation, not yet its spend
        return held - self.reservation.micro_usd + spent_micro_usd >= self.ledger.budgets.daily_micro_usd
