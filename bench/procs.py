"""The processes a benchmark run starts, and what it reads about them from /proc.

redis-server on a free port (never the machine's 6379), the scripted upstream, the service
(`python main.py`, configured only through its environment) and, for counting Redis round trips,
`RespCounter`: a TCP relay between the service and Redis that parses the RESP requests going
through it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path
from typing import IO, Any

from tests.fixtures.processes import children, free_port, stop, wait_until
from tests.fixtures.redis_server import RedisServer
from tests.fixtures.resp_counter import RespCounter as RespCounter  # re-exported for bench/run.py
from tests.fixtures.service import ROOT, ServiceProcess

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """A process and its descendants (the uvicorn workers of a service run with WEB_CONCURRENCY)."""
    pids, index = [pid], 0
    while index < len(pids):
        pids.extend(children(pids[index]))
        index += 1
    return pids


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process and its descendants, all threads (/proc/<pid>/stat)."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError), open(f"/proc/{member}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time all cores spent not idle since boot (/proc/stat), to see what else the machine runs."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its descendants (VmRSS, summed)."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError), open(f"/proc/{member}/status") as status:
            total += next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
    if not total:
        raise RuntimeError(f"no VmRSS for {pid}")
    return total


def http_json(url: str, body: dict[str, Any] | None = None, timeout: float = 5.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="GET" if data is None else "POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


class Process:
    """A child process with its output in a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        stop(self.popen)
        self._log.close()


def start_redis(log_dir: Path) -> tuple[RedisServer, int]:
    """redis-server as the tests start it: a free port, in memory, its log in `log_dir`/redis."""
    server = RedisServer(log_dir / "redis").start()
    return server, server.port


def start_upstream(log_dir: Path) -> tuple[Process, int]:
    port = free_port()
    process = Process("upstream", [sys.executable, "-m", "bench.upstream", "--port", str(port)], log_dir)
    try:
        wait_until(
            lambda: bool(http_json(f"http://127.0.0.1:{port}/control")),
            "the scripted upstream",
            process=process.popen,
            log=process.log_path,
        )
    except BaseException:
        process.stop()
        raise
    return process, port


# Settings every service the bench starts gets on top of its own (`bench.run --service-env`)
SERVICE_ENV_OVERRIDES: dict[str, str] = {}


def start_service(
    name: str,
    log_dir: Path,
    upstream_port: int,
    store: dict[str, str],
    source: Path | None = None,
    workers: int = 1,
    program: tuple[str, ...] = ("main.py",),
) -> tuple[ServiceProcess, int]:
    """`python main.py` as deployed (tests/fixtures/service.py), pointed at the upstream and a store;
    every quota and budget on (each turn pays for checking them), with limits out of the way.

    `source`: another checkout's `src/` to run instead of this one's (to measure a proposed change
    without touching the working tree); it goes first on PYTHONPATH. `workers`: WEB_CONCURRENCY.
    `program`: what python runs, `main.py` or `-m bench.floor` (the parts alone).
    """
    env = {
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
        "OPENAI_MAX_RETRIES": "0",
        "RATE_LIMIT": "1000000/day",
        "SESSION_CREATE_LIMIT": "1000000/hour",
        "GLOBAL_DAILY_REQUESTS": "1000000000",
        "DAILY_BUDGET_USD": "1000000",
        "VISITOR_DAILY_TOKENS": "1000000000",
        "MODEL_PRICES": json.dumps({"gpt-4o-mini": {"input": 0.15, "output": 0.6}}),
        "MAX_OPEN_STREAMS_PER_VISITOR": "100000",
        # a left resumable stream is cancelled 1 s after its client went, not 15 (the memory phase)
        "RESUME_GRACE_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": str(workers),
        **store,
        **SERVICE_ENV_OVERRIDES,
    }
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), os.environ.get("PYTHONPATH")]))
    service = ServiceProcess(name, log_dir, env, command=(sys.executable, *program))
    service.start().wait_ready()
    return service, service.port


def redis_info(port: int, section: str) -> dict[str, str]:
    """INFO <section> as key -> raw value, over a connection of its own (not through the counter)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"INFO {section}\r\n".encode())
        raw = b""
        while True:
            raw += sock.recv(65536)
            header, _, rest = raw.partition(b"\r\n")
            if header.startswith(b"$") and len(rest) >= int(header[1:]) + 2:
                break
    text = rest[: int(header[1:])].decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#"))


def command_calls(port: int) -> Counter[str]:
    """Calls per command since start (INFO commandstats; commands run inside Lua scripts included)."""
    calls: Counter[str] = Counter()
    for key, value in redis_info(port, "commandstats").items():
        name = key.removeprefix("cmdstat_")
        calls[name] = int(value.split(",")[0].removeprefix("calls="))
    return calls
