"""The service as operators run it: `python main.py` in its own process, configured by environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ..fixtures.upstream import free_port

ROOT = Path(__file__).resolve().parents[2]

# Variables a developer's shell may hold that would change what the service under test does.
_CLEARED = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "REDIS_URL", "REDIS_HOST", "REDIS_CLUSTER", "TRUSTED_PROXIES")


class ServiceProcess:
    """`python main.py` on a free port: `start()` launches it, `wait_ready()` polls GET /health/ready."""

    def __init__(self, name: str, workdir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = workdir / f"{name}.log"
        self.env = {
            **{key: value for key, value in os.environ.items() if key not in _CLEARED},
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "OPENAI_API_KEY": "",  # blank is unset: the offline demo model
            "SYSTEM_PROMPT_FILE": str(ROOT / "data" / "system_prompt.md"),
            "DATABASE_PATH": str(workdir / f"{name}.sqlite3"),
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "main.py"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def wait_ready(self, timeout: float = 60.0) -> ServiceProcess:
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + timeout
        while True:  # polling for readiness, the way an orchestrator does
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} was not ready after {timeout} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_all(services: list[ServiceProcess]) -> list[ServiceProcess]:
    """Launch every service at once (imports take seconds on a busy machine), then wait for each;
    on failure stop them all."""
    try:
        for service in services:
            service.start()
        for service in services:
            service.wait_ready()
    except BaseException:
        for service in services:
            service.stop()
        raise
    return services
