"""Overload: the service's saturating load for short turns, then twice that load, open loop.

Capacity is a ladder of closed-loop runs (1-chunk turns, zero-delay upstream) at doubling
concurrency; the process is saturated where turns per second stop rising (`knee`). The overload
run then starts turns at twice that rate on a fixed schedule, whatever the service answers (open
loop: visitors do not wait for each other), and sorts what each got (`OverloadOutcome`): an
admitted turn (200) must finish, a refused one must be a quick 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.client import StreamResult, Target, open_stream, percentile

RISE = 1.05  # a step that adds less than 5 % turns per second is past the knee


@dataclass(frozen=True, slots=True)
class Knee:
    concurrency: int  # the least concurrency reaching 95 % of the best rate
    turns_per_s: float  # the best rate seen


def knee(steps: Sequence[tuple[int, float]]) -> Knee:
    """Saturating load from (concurrency, turns/s) steps: more in flight past it only adds waiting."""
    if not steps:
        raise ValueError("no capacity steps")
    best = max(rate for _, rate in steps)
    concurrency = min(c for c, rate in steps if rate >= best / RISE)
    return Knee(concurrency, best)


def rising(steps: Sequence[tuple[int, float]]) -> bool:
    """Whether the last step still added turns per second (the ladder stops when it did not)."""
    if len(steps) < 2:
        return True
    return steps[-1][1] >= RISE * max(rate for _, rate in steps[:-1])


async def stream_within(target: Target, timeout: float) -> StreamResult:
    """One stream, hung up and marked timed out if it has not ended within `timeout`."""
    stream = await open_stream(target)
    try:
        await asyncio.wait_for(asyncio.shield(stream.done), timeout)
    except TimeoutError:
        stream.abort()
        if stream.result.error is None:
            stream.result.error = f"timed out after {timeout:.0f} s ({stream.result.chunks} chunks)"
    return stream.result


async def open_loop(target: Target, rate: float, seconds: float, timeout: float) -> tuple[list[StreamResult], float]:
    """Start a stream every 1/rate s for `seconds`, not waiting for earlier ones; returns the results
    and the start rate achieved (below `rate` when the load generator itself cannot keep up)."""
    interval = 1.0 / rate
    tasks: list[asyncio.Task[StreamResult]] = []
    start = time.perf_counter()
    due = start
    while due < start + seconds:
        now = time.perf_counter()
        while due <= now and due < start + seconds:  # behind schedule: start every one that is due
            tasks.append(asyncio.ensure_future(stream_within(target, timeout)))
            due += interval
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
    achieved = len(tasks) / (time.perf_counter() - start)
    return list(await asyncio.gather(*tasks)), achieved


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def outcome(results: Sequence[StreamResult]) -> dict[str, Any]:
    """Admitted turns (200) that did not finish, refusals (503) and how fast they came, the rest."""
    admitted = [r for r in results if r.status == 200]
    lost = [r for r in admitted if not r.ok]
    refused = [r for r in results if r.status == 503]
    other = [r for r in results if r.status not in (200, 503)]
    refusal_times = [r.finished_at - r.started for r in refused if r.finished_at is not None]
    ttfcs = [t for r in admitted if (t := r.ttfc) is not None]
    return {
        "turns": len(results),
        "admitted": len(admitted),
        "admitted_lost": len(lost),
        "admitted_lost_examples": sorted({r.error or "" for r in lost})[:3],
        "admitted_ttfc_p50_ms": ms(percentile(ttfcs, 50)),
        "admitted_ttfc_p99_ms": ms(percentile(ttfcs, 99)),
        "refused": len(refused),
        "refused_with_retry_after": sum(r.retry_after is not None for r in refused),
        "refusal_p50_ms": ms(percentile(refusal_times, 50)),
        "refusal_p99_ms": ms(percentile(refusal_times, 99)),
        "other": len(other),
        "other_examples": sorted({r.error or f"HTTP {r.status}" for r in other})[:3],
    }
