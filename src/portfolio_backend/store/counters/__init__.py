"""Counters: the fixed-window counts behind every quota, charged all or nothing."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from ..base import Step, StepStore


@dataclass(frozen=True, slots=True)
class CounterCheck:
    """One counter to charge: `key` names its window; it may not pass `limit`; it is dropped after `ttl_seconds`."""

    key: str
    limit: int
    ttl_seconds: float


@dataclass(frozen=True, slots=True)
class CounterState:
    """The outcome of `CounterStore.hit`: whether all counters were charged, which one refused, and the counts."""

    allowed: bool
    counts: tuple[int, ...]
    refused: int | None = None


class CounterStore(StepStore):
    """Named counters, exact across processes."""

    @abstractmethod
    def hit_step(self, checks: Sequence[CounterCheck]) -> Step[CounterState]:
        """In one atomic step: charge one to every counter, or to none if any has reached its
        limit (then `refused` is its index). Keys name their window, so the TTL only bounds how
        long a counter takes up space."""

    @abstractmethod
    def release_step(self, keys: Sequence[str]) -> Step[None]:
        """Take one back from each key (a refund, or an open stream that ended); never below zero."""

    async def hit(self, checks: Sequence[CounterCheck]) -> CounterState:
        """`hit_step` on its own."""
        return await self.run_step(self.hit_step(checks))

    @abstractmethod
    async def peek(self, key: str) -> int:
        """The current count of `key` (0 if none); counts nothing."""

    async def release(self, *keys: str) -> None:
        """`release_step` on its own."""
        await self.run_step(self.release_step(keys))
