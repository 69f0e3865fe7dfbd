"""Fixed-window quotas on the shared store: exact across processes, one round trip per check.

Windows are aligned to the epoch, so `/day` windows start at UTC midnight. The counters live only
in the store and are checked and charged in one atomic step: a check that read a local copy first
would let every replica admit the full limit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import RateLimited, StoreError
from ..settings import RateSpec
from ..store import CounterCheck, CounterState, CounterStore
from ..store.base import Step

log = logging.getLogger(__name__)

# An open-stream slot outlives a crashed process by at most this long.
OPEN_STREAM_TTL_SECONDS = 600
# How long a visitor at the open-stream bound is asked to wait.
OPEN_STREAM_RETRY_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Bound:
    """One quota: a name for keys and messages, and its rate."""

    name: str
    rate: RateSpec
    message: str
    windowed: bool = True  # False: a held count (open streams), given back with `release`


@dataclass(frozen=True, slots=True)
class QuotaDecision:
    """A quota after a check, with everything its headers and messages need."""

    allowed: bool
    bound: Bound
    count: int
    reset: int  # epoch seconds of the next window
    now: float
    key: str

    @property
    def limit(self) -> int:
        return self.bound.rate.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def retry_after(self) -> int:
        return max(1, int(self.reset - self.now + 0.999))

    @property
    def reset_iso(self) -> str:
        return datetime.fromtimestamp(self.reset, UTC).isoformat().replace("+00:00", "Z")

    def refusal(self, **extra: str) -> RateLimited:
        """The 429 for this (refused) decision: its bound's message, when to come back, its headers."""
        return RateLimited(
            f"{self.bound.message} Try again after {self.reset_iso}.",
            headers=self.headers(),
            limit=self.limit,
            reset=self.reset,
            retry_after=self.retry_after,
            **extra,
        )

    def headers(self) -> dict[str, str]:
        """X-RateLimit-* as the README documents, and the IETF RateLimit-Policy / RateLimit fields."""
        seconds = max(0, int(self.reset - self.now + 0.999))
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f'"{self.bound.name}";q={self.limit};w={self.bound.rate.window_seconds}',
            "RateLimit": f'"{self.bound.name}";r={self.remaining};t={seconds}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


@dataclass(frozen=True, slots=True)
class ChargePlan:
    """Charges about to be made: each (bound, subject), its counter check and window reset, and when."""

    charges: tuple[tuple[Bound, str], ...]
    checks: tuple[tuple[CounterCheck, int], ...]
    now: float


class Limiter:
    """Charges, reads and gives back quotas. `clock` is injectable so tests can roll windows over.

    fail_open: when the store is down, `admit` lets requests through uncounted instead of raising
    StoreError (RATE_LIMIT_FAIL_OPEN). on_refused: told which bound refused a request (metrics).
    """

    def __init__(
        self,
        counters: CounterStore,
        clock: Callable[[], float] = time.time,
        *,
        fail_open: bool = False,
        on_refused: Callable[[Bound], None] | None = None,
    ) -> None:
        self.counters = counters
        self.clock = clock
        self.fail_open = fail_open
        self.on_refused = on_refused

    def _check(self, bound: Bound, subject: str, now: float) -> tuple[CounterCheck, int]:
        window = bound.rate.window_seconds
        if not bound.windowed:
            return CounterCheck(f"{bound.name}:{subject}", bound.rate.limit, window), int(
                now
            ) + OPEN_STREAM_RETRY_SECONDS
        start = int(now // window) * window
        return CounterCheck(f"{bound.name}:{subject}:{start}", bound.rate.limit, start + window - now), start + window

    def plan(self, charges: Sequence[tuple[Bound, str]]) -> ChargePlan:
        """What charging every (bound, subject) takes: the counters to hit, by this moment's windows."""
        now = self.clock()
        return ChargePlan(tuple(charges), tuple(self._check(bound, subject, now) for bound, subject in charges), now)

    def hit_step(self, plan: ChargePlan) -> Step[CounterState]:
        """The plan's charge as a store step, to share a round trip with other steps."""
        return self.counters.hit_step([check for check, _ in plan.checks])

    def decisions(self, plan: ChargePlan, state: CounterState) -> list[QuotaDecision]:
        """One decision per charge, in order, from what the store answered."""
        return [
            QuotaDecision(
                # when one bound refuses, nothing was charged; the others are not to blame
                allowed=state.allowed or position != state.refused,
                bound=bound,
                count=state.counts[position],
                reset=reset,
                now=plan.now,
                key=check.key,
            )
            for position, ((bound, _), (check, reset)) in enumerate(zip(plan.charges, plan.checks, strict=True))
        ]

    def refusal(self, decisions: Sequence[QuotaDecision]) -> RateLimited | None:
        """The 429 naming the bound that refused, if one did (told to `on_refused`)."""
        refused = next((decision for decision in decisions if not decision.allowed), None)
        if refused is None:
            return None
        if self.on_refused is not None:
            self.on_refused(refused.bound)
        return refused.refusal()

    async def charge(self, charges: Sequence[tuple[Bound, str]]) -> list[QuotaDecision]:
        """Charge every (bound, subject) or none; one decision each, in order."""
        plan = self.plan(charges)
        return self.decisions(plan, await self.counters.hit([check for check, _ in plan.checks]))

    async def peek(self, bound: Bound, subject: str) -> QuotaDecision:
        """The quota as it stands; charges nothing."""
        now = self.clock()
        check, reset = self._check(bound, subject, now)
        count = min(await self.counters.peek(check.key), bound.rate.limit)
        return QuotaDecision(True, bound, count, reset, now, check.key)

    async def admit(self, charges: Sequence[tuple[Bound, str]]) -> list[QuotaDecision] | None:
        """Charge every (bound, subject) or raise RateLimited naming the bound that refused.

        One decision each, in order; None when the store is down and the limiter fails open.
        """
        try:
            decisions = await self.charge(charges)
        except StoreError as exc:
            if not self.fail_open:
                raise
            log.warning("quota store down, failing open: %s", exc)
            return None
        refusal = self.refusal(decisions)
        if refusal is not None:
            raise refusal
        return decisions

    async def give_back(self, decisions: Iterable[QuotaDecision]) -> None:
        """Undo charges: a refunded request, or an open-stream slot when the stream ends."""
        keys = [decision.key for decision in decisions]
        if keys:
            await self.counters.release(*keys)


def open_streams_bound(limit: int) -> Bound:
    """Streams held open at once: a counter taken at start and given back at the end."""
    return Bound(
        "streams",
        RateSpec(limit, OPEN_STREAM_TTL_SECONDS),
        f"Too many open streams: at most {limit} at once per visitor. Wait for one to finish.",
        windowed=False,
    )
