"""Usage: turns, tokens and cost per UTC day, per visitor and per session, and the budget holds.

Days are UTC day numbers (`epoch seconds // 86400`); the caller computes them from its clock, so
tests can roll midnight over. Every figure is an integer (tokens, micro-dollars), added atomically
in the store, so several processes keep one exact account (field note 2).

A turn first `reserve`s what it is about to spend (its first request's estimated tokens and cost):
the reservation is counted against the budgets at once, so turns that start together cannot all
see an untouched budget. When the turn ends, `record` adds what it really used and gives the
reservation back. A process that dies between the two leaves its reservation counted until the day
ends: a budget errs towards refusing, never towards spending.
"""

from __future__ import annotations

import enum
from abc import abstractmethod
from dataclasses import dataclass

from ..base import Step, StepStore

DAY_SECONDS = 86400


class BudgetKind(enum.Enum):
    """Which budget refused a turn."""

    DAILY_USD = "daily_usd"  # DAILY_BUDGET_USD, every visitor together
    VISITOR_TOKENS = "visitor_tokens"  # VISITOR_DAILY_TOKENS, one visitor


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a starting turn holds against the budgets until `record` gives it back."""

    day: int
    visitor: str
    tokens: int
    micro_usd: int


@dataclass(frozen=True, slots=True)
class BudgetState:
    """The outcome of `reserve`: allowed, or which budget refused; the day's figures either way
    (recorded + reserved, this reservation included when allowed)."""

    refused: BudgetKind | None
    day_micro_usd: int
    visitor_tokens: int

    @property
    def allowed(self) -> bool:
        return self.refused is None


@dataclass(frozen=True, slots=True)
class TurnUsage:
    """One finished turn, to record under the day it started."""

    reservation: Reservation
    session_id: str | None
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    micro_usd: int
    estimated: bool

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class DayUsage:
    """One UTC day of every visitor together; `estimated_turns` had no usage from the server."""

    day: int
    turns: int = 0
    visitors: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    micro_usd: int = 0
    estimated_turns: int = 0
    reserved_micro_usd: int = 0  # held by turns in flight

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class TallyUsage:
    """A visitor's or a session's account for one day."""

    turns: int = 0
    tokens: int = 0
    micro_usd: int = 0


class UsageStore(StepStore):
    """The spend account. Limits of 0 mean no limit. Each change is also a `Step`, so a turn's
    reservation and its record share a round trip with the turn's other store operations."""

    async def reserve(
        self, reservation: Reservation, *, day_limit_micro_usd: int, visitor_limit_tokens: int, keep_days: int
    ) -> BudgetState:
        """`reserve_step` on its own."""
        step = self.reserve_step(
            reservation,
            day_limit_micro_usd=day_limit_micro_usd,
            visitor_limit_tokens=visitor_limit_tokens,
            keep_days=keep_days,
        )
        return await self.run_step(step)

    async def record(self, turn: TurnUsage, *, keep_days: int) -> None:
        """`record_step` on its own."""
        await self.run_step(self.record_step(turn, keep_days=keep_days))

    async def release(self, reservation: Reservation) -> None:
        """`release_step` on its own."""
        await self.run_step(self.release_step(reservation))

    @abstractmethod
    def reserve_step(
        self, reservation: Reservation, *, day_limit_micro_usd: int, visitor_limit_tokens: int, keep_days: int
    ) -> Step[BudgetState]:
        """In one atomic step: refuse if the day's spend (recorded + reserved) has reached
        `day_limit_micro_usd`, or the visitor's tokens (recorded + reserved) have reached
        `visitor_limit_tokens`; else add the reservation to both. Nothing changes when refused.
        Figures are dropped `keep_days` after their day."""

    @abstractmethod
    def record_step(self, turn: TurnUsage, *, keep_days: int) -> Step[None]:
        """In one atomic step: add a finished turn to its day, its visitor and its session, and take
        its reservation back. Figures are dropped `keep_days` after their day."""

    @abstractmethod
    def release_step(self, reservation: Reservation) -> Step[None]:
        """Give a reservation back without recording a turn (the turn never ran or used nothing)."""

    @abstractmethod
    async def day_micro_usd(self, day: int) -> int:
        """The day's spend so far, recorded + reserved: what a running turn checks the budget against."""

    @abstractmethod
    async def days(self, first: int, last: int) -> list[DayUsage]:
        """Every day from `first` to `last` inclusive, oldest first; a day with no turn is all zeros."""

    @abstractmethod
    async def visitor(self, day: int, visitor: str) -> TallyUsage:
        """A visitor's account on `day`."""

    @abstractmethod
    async def session(self, day: int, session_id: str) -> TallyUsage:
        """A session's account on `day`."""
