"""The relay benchmark: the upstream read directly and through the service, side by side.

    uv run python -m bench.run            # about 2 minutes; prints the table, writes bench/results/latest.json
    uv run python -m bench.run --no-sqlite --reps 1   # quicker

Starts redis-server (free port, no persistence), the scripted upstream (bench/upstream.py) and the
service (`python main.py`, configured by environment only), then measures from this process:

(a) relay: N streams of 50 chunks 10 ms apart started at once, read from the upstream directly
    (replaying byte for byte the request body the service sends) and through the service; wall time
    to the last byte, time to first chunk (TTFC); also one stream at a time;
(b) relay CPU: the service's CPU time (/proc/<pid>/stat) per chunk relayed, with a zero-delay
    upstream and 100 streams kept in flight, at 1, 50 and 200 chunks per turn (1 and 50 split the
    cost into a part per turn and a part per chunk);
(c) Redis per turn: INFO commandstats, and round trips and commands counted by a RESP relay in
    front of Redis (bench/procs.py RespCounter), for turns with and without a session;
(d) memory: the service's RSS with N streams held open (the upstream waits before its first chunk)
    minus its RSS before, per stream;
(e) overload (`--phases overload`, not in the default run): the saturating load for 1-chunk turns,
    then twice that rate, open loop, against a service with MAX_INFLIGHT_TURNS set from it;
(f) peer (`--peer litellm`): the LiteLLM proxy on the same upstream and load, side by side.

Docs and what each number means: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import (
    Burst,
    StreamResult,
    Target,
    burst,
    closed_loop,
    open_stream,
    percentile,
    sequential,
    service_target,
    stream_once,
    upstream_target,
)
from bench.overload import knee, open_loop, outcome, rising
from bench.peer import Peer, install_litellm, litellm_version, start_litellm
from bench.procs import (
    SERVICE_ENV_OVERRIDES,
    Process,
    RespCounter,
    command_calls,
    cpu_seconds,
    http_json,
    machine_busy_seconds,
    redis_info,
    rss_bytes,
    start_redis,
    start_service,
    start_upstream,
)
from tests.fixtures.redis_server import RedisServer
from tests.fixtures.service import ROOT, ServiceProcess

RESULTS = ROOT / "bench" / "results"
PHASES = ("memory", "relay", "cpu", "redis", "overload")
TARGETS = {"wall_ratio_100": 1.10, "wall_ratio_500": 1.25, "added_ttfc_p50_ms_100": 5.0, "redis_round_trips": 3}


# -- the upstream's script ----------------------------------------------------------------------


class Upstream:
    def __init__(self, process: Process, port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}/control"

    async def script(self, *, chunks: int, delay: float, first_delay: float = 0.0) -> None:
        await asyncio.to_thread(http_json, self.url, {"chunks": chunks, "delay": delay, "first_delay": first_delay})

    async def status(self) -> dict[str, Any]:
        return await asyncio.to_thread(http_json, self.url)  # type: ignore[no-any-return]

    async def wait_active(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while (await self.status())["active"] != count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"upstream never reached {count} open streams")
            await asyncio.sleep(0.05)

    async def quiet(self) -> None:
        """Between measurements: no stream left open upstream, and the service's after-stream work done."""
        await self.wait_active(0)
        await asyncio.sleep(0.3)


# -- measurements -------------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def summary(bursts: list[Burst]) -> dict[str, Any]:
    ttfcs = [t for b in bursts for t in b.ttfcs]
    failures = [f for b in bursts for f in b.failures]
    chunks = sum(b.chunks for b in bursts)
    return {
        "walls_s": [round(b.wall, 4) for b in bursts],
        "wall_s": round(statistics.median(b.wall for b in bursts), 4),
        "ttfc_p50_ms": ms(percentile(ttfcs, 50)),
        "ttfc_p95_ms": ms(percentile(ttfcs, 95)),
        "ttfc_p99_ms": ms(percentile(ttfcs, 99)),
        "streams": sum(b.concurrency for b in bursts),
        "chunks": chunks,
        "failures": len(failures),
        "failure_examples": sorted(set(failures))[:3],
        "client_cpu_us_per_chunk": round(sum(b.client_cpu for b in bursts) / max(chunks, 1) * 1e6, 2),
        "client_cpu_share": round(sum(b.client_cpu for b in bursts) / sum(b.wall for b in bursts), 3),
    }


def compare(direct: dict[str, Any], service: dict[str, Any]) -> dict[str, Any]:
    return {
        "direct": direct,
        "service": service,
        "wall_ratio": round(service["wall_s"] / direct["wall_s"], 3),
        "added_ttfc_p50_ms": round(service["ttfc_p50_ms"] - direct["ttfc_p50_ms"], 2),
        "added_ttfc_p95_ms": round(service["ttfc_p95_ms"] - direct["ttfc_p95_ms"], 2),
    }


async def side_by_side(
    direct: Target, service: Target, upstream: Upstream, concurrency: int, reps: int
) -> dict[str, Any]:
    """Alternate direct and service bursts so drift on the machine hits both alike."""
    await upstream.script(chunks=50, delay=0.01)
    runs: dict[str, list[Burst]] = {"direct": [], "service": []}
    for _ in range(reps):
        for name, target in (("direct", direct), ("service", service)):
            runs[name].append(await burst(target, concurrency))
            await upstream.quiet()
    return compare(summary(runs["direct"]), summary(runs["service"]))


async def one_at_a_time(direct: Target, service: Target, upstream: Upstream, count: int) -> dict[str, Any]:
    """TTFC with nothing else running: `count` streams each way, alternating, 50 unpaced chunks."""
    await upstream.script(chunks=50, delay=0.0)
    results: dict[str, list[StreamResult]] = {"direct": [], "service": []}
    for _ in range(count):
        for name, target in (("direct", direct), ("service", service)):
            results[name] += await sequential(target, 1)
    sides = {}
    for name, items in results.items():
        ttfcs = [t for r in items if (t := r.ttfc) is not None]
        sides[name] = {
            "ttfc_p50_ms": ms(percentile(ttfcs, 50)),
            "ttfc_p95_ms": ms(percentile(ttfcs, 95)),
            "streams": len(items),
            "failures": sum(not r.ok for r in items),
        }
    return {
        **sides,
        "added_ttfc_p50_ms": round(sides["service"]["ttfc_p50_ms"] - sides["direct"]["ttfc_p50_ms"], 2),
        "added_ttfc_p95_ms": round(sides["service"]["ttfc_p95_ms"] - sides["direct"]["ttfc_p95_ms"], 2),
    }


async def saturation(
    target: Target, upstream: Upstream, pid: int | None, chunks: int, workers: int, seconds: float
) -> dict[str, Any]:
    """Streams kept in flight against a zero-delay upstream: CPU of the service (if any) per chunk."""
    await upstream.script(chunks=chunks, delay=0.0)
    cpu_before = cpu_seconds(pid) if pid else 0.0
    upstream_before = cpu_seconds(upstream.process.pid)
    client_before = time.process_time()
    results, wall = await closed_loop(target, workers, seconds)
    client_cpu = time.process_time() - client_before
    upstream_cpu = cpu_seconds(upstream.process.pid) - upstream_before
    service_cpu = (cpu_seconds(pid) - cpu_before) if pid else 0.0
    await upstream.quiet()
    turns = sum(r.ok for r in results)
    # upstream chunks carried by the turns that completed; the client may count fewer chunk events if
    # the service merges chunks that arrived together
    relayed = turns * chunks
    out: dict[str, Any] = {
        "chunks_per_turn": chunks,
        "workers": workers,
        "seconds": round(wall, 2),
        "turns": turns,
        "failures": sum(not r.ok for r in results),
        "chunks": relayed,
        "chunk_events": sum(r.chunks for r in results if r.ok),
        "chunks_per_s": round(relayed / wall),
        "turns_per_s": round(turns / wall, 1),
        "client_cpu_us_per_chunk": round(client_cpu / max(relayed, 1) * 1e6, 2),
        "upstream_cpu_us_per_chunk": round(upstream_cpu / max(relayed, 1) * 1e6, 2),
    }
    if pid:
        out |= {
            "service_cpu_s": round(service_cpu, 2),
            "service_cpu_share": round(service_cpu / wall, 2),  # 1.0 = one core busy all the time
            "service_cpu_us_per_chunk": round(service_cpu / max(relayed, 1) * 1e6, 2),
            "service_cpu_us_per_turn": round(service_cpu / max(turns, 1) * 1e6),
        }
    return out


def split_cost(small: dict[str, Any], large: dict[str, Any]) -> dict[str, float]:
    """cost per turn = fixed + per_chunk * chunks, solved from 1-chunk and 50-chunk turns."""
    a, b = small["service_cpu_us_per_turn"], large["service_cpu_us_per_turn"]
    per_chunk = (b - a) / (large["chunks_per_turn"] - small["chunks_per_turn"])
    return {
        "per_turn_fixed_us": round(a - per_chunk * small["chunks_per_turn"]),
        "per_chunk_marginal_us": round(per_chunk, 2),
    }


async def memory(service: ServiceProcess, target: Target, upstream: Upstream, count: int) -> dict[str, Any]:
    """RSS with `count` streams held open (no chunk sent yet) minus RSS before, per stream."""
    await upstream.script(chunks=50, delay=0.01, first_delay=60.0)
    idle = rss_bytes(service.pid)
    streams = await asyncio.gather(*(open_stream(target) for _ in range(count)))
    await upstream.wait_active(count)
    loaded = rss_bytes(service.pid)
    failures = [s.result.error for s in streams if s.result.error or s.result.status != 200]
    for stream in streams:
        stream.abort()
    await upstream.quiet()
    await upstream.script(chunks=50, delay=0.01)
    return {
        "streams": count,
        "idle_rss_mb": round(idle / 2**20, 1),
        "loaded_rss_mb": round(loaded / 2**20, 1),
        "kb_per_stream": round((loaded - idle) / count / 1024, 1),
        "failures": len(failures),
    }


async def redis_per_turn(
    redis_port: int, upstream: Upstream, log_dir: Path, turns: int, source: Path | None
) -> dict[str, Any]:
    """Turns one after another through a service whose Redis traffic goes through RespCounter."""
    counter = RespCounter(redis_port)
    await counter.start()
    service, port = await asyncio.to_thread(
        start_service,
        "service-redis-counted",
        log_dir,
        upstream.port,
        {"REDIS_URL": f"redis://127.0.0.1:{counter.port}/0"},
        source,
    )
    try:
        await upstream.script(chunks=50, delay=0.0)
        sessions = [
            (await asyncio.to_thread(http_json, f"http://127.0.0.1:{port}/session", {}))["session_id"] for _ in range(5)
        ]
        out = {}
        for kind in ("with_session", "without_session"):

            def target(i: int, kind: str = kind) -> Target:
                return service_target(port, session_id=sessions[i % len(sessions)] if kind == "with_session" else None)

            for i in range(3):  # warm-up: pooled connection, scripts loaded
                await stream_once(target(i))
            await upstream.quiet()
            server_before, sent_before, trips_before = (
                command_calls(redis_port),
                counter.commands.copy(),
                counter.round_trips,
            )
            results = [await stream_once(target(i)) for i in range(turns)]
            await upstream.quiet()
            server = command_calls(redis_port) - server_before
            server.pop("info", None)  # our own INFO calls
            sent = counter.commands - sent_before
            out[kind] = {
                "turns": turns,
                "failures": sum(not r.ok for r in results),
                "round_trips": round((counter.round_trips - trips_before) / turns, 2),
                "commands_sent": round(sum(sent.values()) / turns, 2),
                "commands_sent_by_name": per_turn(sent, turns),
                "commandstats": round(sum(server.values()) / turns, 2),
                "commandstats_by_name": per_turn(server, turns),
            }
        return out
    finally:
        await asyncio.to_thread(service.stop)
        await counter.stop()


async def overload(
    target: Target,
    upstream: Upstream,
    log_dir: Path,
    args: argparse.Namespace,
    store: dict[str, str],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """(e) capacity ladder on the running service, then twice the saturating rate against a service
    started with MAX_INFLIGHT_TURNS from it (or --max-inflight)."""
    # the model's time before its first token (--overload-first-delay) is what holds turns in flight
    await upstream.script(chunks=1, delay=0.0, first_delay=args.overload_first_delay)
    steps: list[tuple[int, float]] = []
    ladder = []
    concurrency = 4
    while concurrency <= args.overload_max_concurrency and rising(steps):
        results, wall = await closed_loop(target, concurrency, args.seconds)
        steps.append((concurrency, round(sum(r.ok for r in results) / wall, 1)))
        ladder.append(
            {"concurrency": concurrency, "turns_per_s": steps[-1][1], "failures": sum(not r.ok for r in results)}
        )
        log(f"[overload] {concurrency} in flight: {steps[-1][1]} turns/s")
        concurrency *= 2
    await upstream.quiet()
    saturated = knee(steps)
    # the bound is per process: with WEB_CONCURRENCY workers each takes about its share of the turns
    limit = args.max_inflight or max(1, saturated.concurrency // args.service_workers)
    rate = 2 * saturated.turns_per_s
    service, port = await asyncio.to_thread(
        start_service,
        "service-overload",
        log_dir,
        upstream.port,
        {**store, "MAX_INFLIGHT_TURNS": str(limit)},
        args.service_src,
        args.service_workers,
    )
    try:
        await upstream.script(chunks=1, delay=0.0)
        await burst(service_target(port), 20)  # warm-up: pools, first upstream connections
        await upstream.quiet()
        await upstream.script(chunks=1, delay=0.0, first_delay=args.overload_first_delay)
        log(f"[overload] MAX_INFLIGHT_TURNS={limit}: {rate:.0f} turns/s for {args.overload_seconds:.0f}s, open loop")
        cpu_before, started = cpu_seconds(service.pid), time.monotonic()
        results, achieved = await open_loop(service_target(port), rate, args.overload_seconds, args.overload_timeout)
        # near 100 %: the process was saturated, so a refusal waited its turn on the event loop too
        service_cpu_share = (cpu_seconds(service.pid) - cpu_before) / (time.monotonic() - started)
        await upstream.quiet()
    finally:
        await asyncio.to_thread(service.stop)
    return {
        "ladder": ladder,
        "saturated": not rising(steps),  # False: the ladder hit its cap still rising
        "saturating_concurrency": saturated.concurrency,
        "saturating_turns_per_s": saturated.turns_per_s,
        "max_inflight_turns": limit,
        "max_inflight_from": "--max-inflight"
        if args.max_inflight
        else f"saturating concurrency / {args.service_workers} worker(s)",
        "first_delay_s": args.overload_first_delay,
        "offered_turns_per_s": round(rate, 1),
        "achieved_turns_per_s": round(achieved, 1),
        "service_cpu_share": round(service_cpu_share, 2),
        "seconds": args.overload_seconds,
        "timeout_s": args.overload_timeout,
        **outcome(results),
    }


async def peak_rss(pid: int, running: asyncio.Event) -> int:
    """The highest RSS of a process tree, sampled every 0.1 s until `running` is cleared."""
    peak = 0
    while running.is_set():
        peak = max(peak, rss_bytes(pid))
        await asyncio.sleep(0.1)
    return peak


async def peer_side_by_side(
    service_pid: int,
    service: Target,
    upstream: Upstream,
    log_dir: Path,
    args: argparse.Namespace,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """(f) the LiteLLM proxy beside the service: the same body to the same upstream, the same load."""
    log(f"[peer] installing {args.peer_spec} into bench/results/peers/ (once)")
    executable = await asyncio.to_thread(install_litellm, args.peer_spec)
    await upstream.script(chunks=50, delay=0.01)
    await stream_once(service)
    body = (await upstream.status())["last_request"]
    peer: Peer = await asyncio.to_thread(
        start_litellm, executable, upstream.port, body["model"], log_dir, args.service_workers
    )
    try:
        log(f"[peer] LiteLLM proxy started on {peer.port}")
        targets = {
            "direct": upstream_target(upstream.port, body),
            "service": service,
            "litellm": peer.target(json.dumps(body).encode()),
        }
        pids = {"service": service_pid, "litellm": peer.process.pid}
        for name in ("service", "litellm"):  # warm-up, then the idle footprint
            await burst(targets[name], 20)
            await upstream.quiet()
        out: dict[str, Any] = {"litellm_version": await asyncio.to_thread(litellm_version, executable)}
        sides: dict[str, dict[str, Any]] = {
            name: {"idle_rss_mb": round(rss_bytes(pid) / 2**20, 1)} for name, pid in pids.items()
        }
        running = asyncio.Event()
        running.set()
        peaks = {name: asyncio.ensure_future(peak_rss(pid, running)) for name, pid in pids.items()}
        try:
            for name in ("service", "litellm"):
                log(f"[peer] {name}: 1-chunk turns, {args.workers} in flight, {args.seconds:.0f}s")
                sides[name]["saturation"] = await saturation(
                    targets[name], upstream, pids[name], 1, args.workers, args.seconds
                )
            log(f"[peer] 100 concurrent streams, direct / service / litellm, {args.reps}x")
            await upstream.script(chunks=50, delay=0.01)
            bursts: dict[str, list[Burst]] = {name: [] for name in targets}
            for _ in range(args.reps):
                for name, target in targets.items():
                    bursts[name].append(await burst(target, 100))
                    await upstream.quiet()
        finally:
            running.clear()
        direct = summary(bursts["direct"])
        for name in pids:
            got = summary(bursts[name])
            sides[name] |= {
                "concurrent_100": got,
                "added_ttfc_p50_ms": round(got["ttfc_p50_ms"] - direct["ttfc_p50_ms"], 2),
                "added_ttfc_p99_ms": round(got["ttfc_p99_ms"] - direct["ttfc_p99_ms"], 2),
                "peak_rss_mb": round(await peaks[name] / 2**20, 1),
            }
        return out | {"direct_100": direct, **sides}
    finally:
        await asyncio.to_thread(peer.process.stop)


def per_turn(counts: Counter[str], turns: int) -> dict[str, float]:
    return {name: round(n / turns, 2) for name, n in sorted(counts.items()) if n}


# -- the run ------------------------------------------------------------------------------------


async def relay_suite(
    name: str, port: int, upstream: Upstream, args: argparse.Namespace, log: Callable[[str], None]
) -> dict[str, Any]:
    """(a) for one store: warm up, capture the request body to replay, then side by side."""
    target = service_target(port)
    await upstream.script(chunks=50, delay=0.01)
    await burst(target, 20)  # warm-up: imports, pools, first upstream connections
    await upstream.quiet()
    body = (await upstream.status())["last_request"]
    direct = upstream_target(upstream.port, body)
    await burst(direct, 20)
    await upstream.quiet()
    out: dict[str, Any] = {}
    for concurrency in (100, 500):
        log(f"[{name}] {concurrency} concurrent streams, direct vs service, {args.reps}x")
        out[f"concurrent_{concurrency}"] = await side_by_side(direct, target, upstream, concurrency, args.reps)
    log(f"[{name}] one stream at a time, {args.sequential}x each way")
    out["one_at_a_time"] = await one_at_a_time(direct, target, upstream, args.sequential)
    return out


@contextlib.contextmanager
def stopping(processes: list[Process | RedisServer | ServiceProcess]) -> Iterator[None]:
    try:
        yield
    finally:
        for process in reversed(processes):
            process.stop()


def program(args: argparse.Namespace) -> tuple[str, ...]:
    """The service, or with --parts-only the floor of its parts (bench/floor.py)."""
    return ("-m", "bench.floor") if args.parts_only else ("main.py",)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    log_dir = RESULTS / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"  {time.monotonic() - started:6.1f}s  {message}", file=sys.stderr, flush=True)

    processes: list[Process | RedisServer | ServiceProcess] = []
    results: dict[str, Any] = {
        "machine": machine(),
        "service_src": str(args.service_src or ROOT / "src"),
        "service_workers": args.service_workers,
        "parts_only": args.parts_only,
        "session": args.session,
    }
    busy = machine_busy_seconds()
    await asyncio.sleep(1.0)
    results["machine"]["background_cores_busy"] = round(machine_busy_seconds() - busy, 2)
    results["machine"]["loadavg_at_start"] = Path("/proc/loadavg").read_text().split()[0]
    with stopping(processes):
        redis, redis_port = start_redis(log_dir)
        processes.append(redis)
        upstream_process, upstream_port = start_upstream(log_dir)
        processes.append(upstream_process)
        upstream = Upstream(upstream_process, upstream_port)
        results["machine"]["redis"] = redis_info(redis_port, "server").get("redis_version")

        service, port = start_service(
            "service-redis",
            log_dir,
            upstream_port,
            {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"},
            args.service_src,
            args.service_workers,
            program(args),
        )
        processes.append(service)
        log("service on Redis started")
        phases = set(args.phases.split(","))
        target = service_target(port)
        if args.session:  # every measured turn continues one session: the resumable kind (issue 16)
            session = await asyncio.to_thread(http_json, f"http://127.0.0.1:{port}/session", {})
            target = service_target(port, session_id=session["session_id"])
        if "memory" in phases and not args.parts_only:  # the parts alone never close a left stream
            # first, before the 500-stream bursts grow the heap (freed memory is reused, not returned)
            await upstream.script(chunks=50, delay=0.01)
            await burst(target, 20)
            await upstream.quiet()
            log(f"[redis] memory with {args.open_streams} open streams")
            results["memory"] = await memory(service, target, upstream, args.open_streams)
        if "relay" in phases:
            results["relay"] = {"redis": await relay_suite("redis", port, upstream, args, log)}
        if "cpu" in phases:
            log(f"[redis] saturation: {args.workers} streams in flight, zero-delay upstream, {args.seconds:.0f}s each")
            await upstream.script(chunks=50, delay=0.0)
            await stream_once(target)
            direct = upstream_target(upstream_port, (await upstream.status())["last_request"])
            sat_direct = await saturation(direct, upstream, None, 50, args.workers, args.seconds)
            sat_1 = await saturation(target, upstream, service.pid, 1, args.workers, args.seconds)
            sat_50 = await saturation(target, upstream, service.pid, 50, args.workers, args.seconds)
            sat_200 = await saturation(target, upstream, service.pid, 200, args.workers, args.seconds)
            results["cpu"] = {
                "direct": sat_direct,
                "service_1": sat_1,
                "service_50": sat_50,
                "service_200": sat_200,
                "split": split_cost(sat_1, sat_50),
            }
        if "overload" in phases:
            store = {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
            results["overload"] = await overload(target, upstream, log_dir, args, store, log)
        if args.peer:
            try:
                results["peer"] = await peer_side_by_side(service.pid, target, upstream, log_dir, args, log)
            except RuntimeError as exc:  # not installable or not starting here: say why, keep the rest of the run
                log(f"[peer] not measured: {exc}")
                results["peer"] = {"error": str(exc)}
        service.stop()
        processes.remove(service)

        if "redis" in phases and not args.parts_only:  # the parts alone have no sessions
            log(f"[redis] commands and round trips per turn, {args.turns} turns each")
            results["redis"] = await redis_per_turn(redis_port, upstream, log_dir, args.turns, args.service_src)

        if args.sqlite and not args.parts_only:
            database = log_dir / "bench.sqlite3"
            for leftover in log_dir.glob("bench.sqlite3*"):
                leftover.unlink()
            service, port = start_service(
                "service-sqlite",
                log_dir,
                upstream_port,
                {"DATABASE_PATH": str(database)},
                args.service_src,
                args.service_workers,
            )
            processes.append(service)
            log("service on SQLite started")
            results.setdefault("relay", {})["sqlite"] = await relay_suite("sqlite", port, upstream, args, log)
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    results["machine"]["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[0]
    return results


def machine() -> dict[str, Any]:
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    versions = {
        name: metadata.version(name) for name in ("fastapi", "starlette", "uvicorn", "openai", "httpx2", "redis")
    }
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "loop": loop,
        "commit": commit.strip(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        **versions,
    }


# -- the table ----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def table(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        f"PortfolioBackend relay benchmark  ({m['cpus']} CPUs, {m['cpu']}, Python {m['python']}, {m['loop']}, "
        f"redis {m.get('redis')}, commit {m['commit']}, service workers {r.get('service_workers', 1)})",
        *(["service: THE PARTS ALONE (bench/floor.py, --parts-only), not the service"] if r.get("parts_only") else []),
        f"other load on the machine: {m['background_cores_busy']} cores busy in the second before the run, "
        f"load average {m['loadavg_at_start']} -> {m['loadavg_at_end']}"
        + ("  !! figures are unreliable: run on a quiet machine" if m["background_cores_busy"] > 0.2 else ""),
    ]
    for key, section in (
        ("relay", _relay_table),
        ("cpu", _cpu_table),
        ("redis", _redis_table),
        ("memory", _memory_table),
        ("overload", _overload_table),
        ("peer", _peer_table),
    ):
        if key in r:
            lines += ["", *section(r[key])]
    return "\n".join([*lines, "", f"elapsed {r['elapsed_s']} s"])


def _relay_table(relay: dict[str, Any]) -> list[str]:
    lines = [
        "(a) relay: N streams x 50 chunks 10 ms apart, started together; median wall of the bursts, TTFC over all",
        f"    {'':30}{'direct':>12}{'service':>12}{'service/direct':>18}{'target':>10}",
    ]
    for store, suite in relay.items():
        lines.append(f"  store: {store}")
        for concurrency, limit in ((100, TARGETS["wall_ratio_100"]), (500, TARGETS["wall_ratio_500"])):
            c = suite[f"concurrent_{concurrency}"]
            d, s = c["direct"], c["service"]
            lines += [
                f"    {concurrency} streams: wall (s)        {d['wall_s']:>12.3f}{s['wall_s']:>12.3f}"
                f"{c['wall_ratio']:>17.2f}x{'<= ' + str(limit):>10}  {verdict(c['wall_ratio'] <= limit)}",
                f"    {concurrency} streams: TTFC p50 (ms)   {d['ttfc_p50_ms']:>12.1f}{s['ttfc_p50_ms']:>12.1f}"
                f"{c['added_ttfc_p50_ms']:>+15.1f} ms"
                + (f"{'<= 5 ms':>10}  {verdict(c['added_ttfc_p50_ms'] <= 5)}" if concurrency == 100 else ""),
                f"    {concurrency} streams: TTFC p95 (ms)   {d['ttfc_p95_ms']:>12.1f}{s['ttfc_p95_ms']:>12.1f}"
                f"{c['added_ttfc_p95_ms']:>+15.1f} ms",
            ]
            if d["failures"] or s["failures"]:
                lines.append(
                    f"    !! failures: direct {d['failures']}, service {s['failures']} "
                    f"{d['failure_examples'] + s['failure_examples']}"
                )
        one = suite["one_at_a_time"]
        d, s = one["direct"], one["service"]
        lines += [
            f"    1 at a time: TTFC p50 (ms)   {d['ttfc_p50_ms']:>12.2f}{s['ttfc_p50_ms']:>12.2f}"
            f"{one['added_ttfc_p50_ms']:>+15.2f} ms",
            f"    1 at a time: TTFC p95 (ms)   {d['ttfc_p95_ms']:>12.2f}{s['ttfc_p95_ms']:>12.2f}"
            f"{one['added_ttfc_p95_ms']:>+15.2f} ms",
        ]
    direct_500 = next(iter(relay.values()))["concurrent_500"]["direct"]
    lines.append(
        f"    load generator: {direct_500['client_cpu_us_per_chunk']:.1f} us CPU per chunk, "
        f"{direct_500['client_cpu_share']:.0%} of a core in the direct 500-stream bursts"
    )
    return lines


def _cpu_table(cpu: dict[str, Any]) -> list[str]:
    lines = [f"(b) relay CPU at saturation: {cpu['service_50']['workers']} streams in flight, zero-delay upstream"]
    for key, label in (
        ("direct", "direct, 50 chunks/turn"),
        ("service_1", "service, 1 chunk/turn"),
        ("service_50", "service, 50 chunks/turn"),
        ("service_200", "service, 200 chunks/turn"),
    ):
        c = cpu[key]
        row = f"    {label:26} {c['chunks_per_s']:>8} chunks/s {c['turns_per_s']:>7} turns/s"
        if "service_cpu_us_per_chunk" in c:
            row += (
                f"   service {c['service_cpu_us_per_chunk']:>6.1f} us/chunk, {c['service_cpu_us_per_turn']:>6} us/turn,"
                f" {c['service_cpu_share']:.0%} of a core"
            )
        else:
            row += (
                f"   client {c['client_cpu_us_per_chunk']:.1f} us/chunk, "
                f"upstream {c['upstream_cpu_us_per_chunk']:.1f} us/chunk"
            )
        lines.append(row + (f"  !! {c['failures']} failed" if c["failures"] else ""))
    lines.append(
        f"    split: {cpu['split']['per_turn_fixed_us']} us fixed per turn + "
        f"{cpu['split']['per_chunk_marginal_us']} us per chunk relayed"
    )
    return lines


def _redis_table(redis: dict[str, Any]) -> list[str]:
    lines = ["(c) Redis per chat turn (turns one after another)"]
    for kind, c in redis.items():
        top = ", ".join(f"{k} {v:g}" for k, v in c["commands_sent_by_name"].items())
        lines.append(
            f"    {kind.replace('_', ' '):16} round trips {c['round_trips']:>5.2f}"
            f"{'  (target <= 3)  ' + verdict(c['round_trips'] <= 3) if kind == 'with_session' else ''}"
        )
        lines.append(f"    {'':16} commands sent {c['commands_sent']:g}: {top}")
        lines.append(
            f"    {'':16} commandstats  {c['commandstats']:g} (incl. inside Lua): "
            + ", ".join(f"{k} {v:g}" for k, v in c["commandstats_by_name"].items())
        )
    return lines


def _memory_table(mem: dict[str, Any]) -> list[str]:
    return [
        f"(d) memory: {mem['streams']} streams open, upstream silent before its first chunk",
        f"    service RSS {mem['idle_rss_mb']} MB idle -> {mem['loaded_rss_mb']} MB: "
        f"{mem['kb_per_stream']} KB per open stream" + (f"  !! {mem['failures']} failed" if mem["failures"] else ""),
    ]


def _overload_table(o: dict[str, Any]) -> list[str]:
    ladder = ", ".join(f"{step['concurrency']}: {step['turns_per_s']:g}" for step in o["ladder"])
    refusals_ok = o["refused"] == 0 or o["refusal_p99_ms"] <= 50
    return [
        f"(e) overload: 1-chunk turns, the upstream's first chunk after {o['first_delay_s']:g} s",
        f"    capacity, closed loop (in flight: turns/s): {ladder}",
        f"    saturating at {o['saturating_concurrency']} in flight, {o['saturating_turns_per_s']:g} turns/s",
        *(
            []
            if o["saturated"]
            else ["    !! still rising at the ladder's last step: raise --overload-max-concurrency"]
        ),
        f"    MAX_INFLIGHT_TURNS={o['max_inflight_turns']} ({o['max_inflight_from']})",
        f"    offered {o['offered_turns_per_s']:g} turns/s (2x) for {o['seconds']:g} s, started "
        f"{o['achieved_turns_per_s']:g}/s: {o['turns']} turns",
        f"    admitted {o['admitted']}: lost (failed or > {o['timeout_s']:g} s) {o['admitted_lost']}  (goal 0)  "
        f"{verdict(o['admitted_lost'] == 0)}; TTFC p50 {o['admitted_ttfc_p50_ms']:.1f} ms, "
        f"p99 {o['admitted_ttfc_p99_ms']:.1f} ms",
        *([f"    !! lost: {o['admitted_lost_examples']}"] if o["admitted_lost"] else []),
        f"    refused {o['refused']} (503, {o['refused_with_retry_after']} with Retry-After): answered p50 "
        f"{o['refusal_p50_ms']:.1f} ms, p99 {o['refusal_p99_ms']:.1f} ms  (goal p99 <= 50 ms)  {verdict(refusals_ok)}",
        *([f"    !! other outcomes {o['other']}: {o['other_examples']}"] if o["other"] else []),
        f"    the service used {o['service_cpu_share']:.0%} of a core during the run",
    ]


def _peer_table(peer: dict[str, Any]) -> list[str]:
    if "error" in peer:
        return [f"(f) the LiteLLM proxy was not measured: {peer['error']}"]
    d = peer["direct_100"]
    lines = [
        f"(f) side by side with the LiteLLM proxy {peer['litellm_version']}: same upstream, same load generator, "
        "same request body",
        f"    {'':24}{'RPS':>8}{'added latency at 100 concurrent':>36}{'memory (RSS)':>24}",
        f"    {'':24}{'1-chunk':>8}{'TTFC p50 / p99 vs direct':>36}{'idle / peak':>24}",
    ]
    for name, label in (("service", "PortfolioBackend"), ("litellm", "LiteLLM proxy")):
        side = peer[name]
        rps = side["saturation"]["turns_per_s"]
        failed = side["saturation"]["failures"] + side["concurrent_100"]["failures"]
        lines.append(
            f"    {label:24}{rps:>8g}{side['added_ttfc_p50_ms']:>+22.1f} / {side['added_ttfc_p99_ms']:+.1f} ms"
            f"{side['idle_rss_mb']:>15.0f} / {side['peak_rss_mb']:.0f} MB"
            + (f"  !! {failed} failed {side['concurrent_100']['failure_examples']}" if failed else "")
        )
    return [
        *lines,
        f"    direct at 100 concurrent: TTFC p50 {d['ttfc_p50_ms']:.1f} ms, p99 {d['ttfc_p99_ms']:.1f} ms. "
        "PortfolioBackend runs its quotas, budgets and store on every turn; the proxy has no database.",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3, help="bursts per side and concurrency (median wall)")
    parser.add_argument("--sequential", type=int, default=40, help="one-at-a-time streams per side")
    parser.add_argument("--workers", type=int, default=100, help="streams in flight for the CPU measurement")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each CPU measurement")
    parser.add_argument("--turns", type=int, default=30, help="turns counted for the Redis figures")
    parser.add_argument("--open-streams", type=int, default=500, help="streams held open for the memory figure")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false", help="skip the run on SQLite")
    parser.add_argument(
        "--phases",
        default="memory,relay,cpu,redis",
        help="comma-separated subset of memory,relay,cpu,redis,overload (overload is not in the default run), "
        "or none (with --peer: the side by side alone)",
    )
    parser.add_argument(
        "--service-src",
        type=Path,
        default=None,
        help="run the service from this src/ directory (e.g. a patched copy) instead of ./src",
    )
    parser.add_argument(
        "--service-workers",
        type=int,
        default=1,
        help="the service's worker processes (WEB_CONCURRENCY); CPU and memory sum over them",
    )
    parser.add_argument(
        "--parts-only",
        action="store_true",
        help="measure bench/floor.py, the service's libraries doing a turn's minimum, instead of the service",
    )
    parser.add_argument(
        "--session",
        action="store_true",
        help="the memory and cpu phases' turns continue a session (resumable turns) instead of having none",
    )
    parser.add_argument(
        "--max-inflight",
        type=int,
        default=0,
        help="MAX_INFLIGHT_TURNS for the overload phase (default: the saturating concurrency it measures)",
    )
    parser.add_argument("--overload-seconds", type=float, default=5.0, help="length of the overload run")
    parser.add_argument(
        "--overload-first-delay",
        type=float,
        default=0.0,
        help="the upstream's wait before its one chunk in the overload phase (a model's time to first token)",
    )
    parser.add_argument("--overload-timeout", type=float, default=30.0, help="an admitted turn slower is lost")
    parser.add_argument(
        "--overload-max-concurrency", type=int, default=256, help="the capacity ladder's last step (4, 8, 16...)"
    )
    parser.add_argument(
        "--peer",
        choices=["litellm"],
        default=None,
        help="also run the LiteLLM proxy (installed once into bench/results/peers/) on the same upstream and load",
    )
    parser.add_argument("--peer-spec", default="litellm[proxy]", help="what uv installs for --peer litellm")
    parser.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for every service started, e.g. KNOWLEDGE_DIR= to measure a turn without the "
        "owner's knowledge (repeatable)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json", help="where the JSON goes")
    args = parser.parse_args(argv)
    for setting in args.service_env:
        key, _, value = setting.partition("=")
        SERVICE_ENV_OVERRIDES[key] = value
    unknown = set(args.phases.split(",")) - {*PHASES, "none"}
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}: choose from {', '.join(PHASES)}, none")
    # SIGTERM (timeout, CI) unwinds like Ctrl-C, so the child processes are stopped, not orphaned
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        results = runner.run(run(args))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
