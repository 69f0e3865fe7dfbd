"""Where a turn's CPU goes: py-spy on the service while 1-chunk turns run at saturation.

    uv run python -m bench.profile_turns [--session] [--seconds 8] [--chunks 1]

Starts redis-server, the scripted upstream and the service as bench/run.py does, keeps 100 turns in
flight, and records the service with `uvx py-spy` (raw folded stacks). Prints the share of samples
by the innermost frame's library and by our own functions anywhere on the stack.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import subprocess
from pathlib import Path

from bench.client import closed_loop, service_target
from bench.procs import http_json, start_redis, start_service, start_upstream
from bench.run import RESULTS, Upstream


def library(frame: str) -> str:
    path = frame.rsplit("(", 1)[-1]
    for name in (
        "portfolio_backend",
        "asyncio",
        "aiohttp",
        "redis",
        "uvicorn",
        "httpx2",
        "openai",
        "fastapi",
        "starlette",
        "json",
        "prometheus_client",
        "pydantic",
        "httptools",
        "uvloop",
        "logging",
        "anyio",
    ):
        if f"/{name}/" in path or f"{name}." in path:
            return name
    return path.split("/")[-1][:40]


async def main(args: argparse.Namespace) -> None:
    log_dir = RESULTS / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    redis, redis_port = start_redis(log_dir)
    upstream_process, upstream_port = start_upstream(log_dir)
    upstream = Upstream(upstream_process, upstream_port)
    service, port = await asyncio.to_thread(
        start_service, "service-profiled", log_dir, upstream_port, {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    )
    try:
        target = service_target(port)
        if args.session:
            session = await asyncio.to_thread(http_json, f"http://127.0.0.1:{port}/session", {})
            target = service_target(port, session_id=session["session_id"])
        await upstream.script(chunks=args.chunks, delay=0.0)
        await closed_loop(target, 100, 2.0)  # warm-up
        out = Path(args.output)
        spy = subprocess.Popen(
            [
                "uvx",
                "py-spy",
                "record",
                "-p",
                str(service.pid),
                "-d",
                str(int(args.seconds)),
                "-r",
                "250",
                "-f",
                "raw",
                "--nonblocking",
                "-o",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        results, wall = await closed_loop(target, 100, args.seconds + 1)
        await asyncio.to_thread(spy.wait)
        print(f"{sum(r.ok for r in results) / wall:.0f} turns/s while recorded")
        inner: collections.Counter[str] = collections.Counter()
        ours: collections.Counter[str] = collections.Counter()
        total = 0
        for line in out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            n = int(count)
            total += n
            frames = stack.split(";")
            inner[library(frames[-1])] += n
            for frame in set(frames):
                if "portfolio_backend" in frame:
                    ours[frame.split(" (")[0]] += n
        print("innermost frame by library:")
        for name, n in inner.most_common(18):
            print(f"  {100 * n / total:5.1f}%  {name}")
        print("our functions anywhere on the stack:")
        for name, n in ours.most_common(30):
            print(f"  {100 * n / total:5.1f}%  {name}")
    finally:
        service.stop()
        upstream_process.stop()
        redis.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--session", action="store_true")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--chunks", type=int, default=1)
    parser.add_argument("--output", default="/tmp/prof/raw.txt")
    asyncio.run(main(parser.parse_args()))
