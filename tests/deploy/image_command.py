"""The image's start command run on the host the way the container runs it: the files the runtime
stage copies laid out in a directory standing in for /app, the image's ENV mapped onto it, and the
image's CMD run by tests/fixtures/service.py's launcher.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..fixtures.processes import free_port
from ..fixtures.service import ServiceProcess
from .dockerfile import Dockerfile, exec_form
from .files import REPO

START_TIMEOUT = 60.0  # imports take seconds on a loaded two-core machine


@dataclass
class Layout:
    """The image's files and environment, mapped onto the host."""

    root: Path
    app: Path
    data: Path
    tmp: Path
    argv: list[str]
    env: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)

    def snapshot(self) -> dict[str, tuple[int, int]]:
        return {
            str(path.relative_to(self.app)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in sorted(self.app.rglob("*"))
        }


def image_layout(dockerfile: Dockerfile, root: Path) -> Layout:
    final = dockerfile.final
    workdir_instruction = final.last("WORKDIR")
    assert workdir_instruction is not None
    workdir = workdir_instruction.value
    volumes = [json.loads(v.value) if v.value.startswith("[") else v.value.split() for v in final.all("VOLUME")]
    volume_paths = [path for group in volumes for path in group]
    assert volume_paths == ["/data"], volume_paths

    layout = Layout(root=root, app=root / "app", data=root / "data", tmp=root / "tmp", argv=[], env={})
    for directory in (layout.app, layout.data, layout.tmp):
        directory.mkdir(parents=True)

    def host(path: str) -> Path:
        if path == workdir or path.startswith(workdir + "/"):
            return layout.app / os.path.relpath(path, workdir)
        if path == "/data" or path.startswith("/data/"):
            return layout.data / os.path.relpath(path, "/data")
        raise AssertionError(f"the image refers to {path}, outside {workdir} and /data")

    for item in final.all("COPY"):
        flags, words = item.flags_and_args()
        if "from" in flags:
            continue  # the venv: this interpreter's environment stands in for it
        *sources, dest = words
        target = host(dest if dest.startswith("/") else os.path.join(workdir, dest))
        for source in sources:
            destination = target / Path(source).name if dest.endswith("/") else target
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / source, destination)

    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(layout.app)}
    for name, value in final.env().items():
        if name == "PATH":
            continue
        env[name] = str(host(value)) if value.startswith("/") else value
    env.update(HOST="127.0.0.1", PORT=str(free_port()), TMPDIR=str(layout.tmp))
    layout.env = env

    cmd = final.last("CMD")
    assert cmd is not None
    argv = exec_form(cmd)
    assert argv is not None, "CMD should use the exec form"
    assert argv[0] == "python", argv
    layout.argv = [sys.executable, *argv[1:]]
    return layout


class Server(ServiceProcess):
    """The image's CMD in `layout`, with the image's environment alone (a container inherits nothing)."""

    def __init__(self, layout: Layout, extra_env: dict[str, str] | None = None) -> None:
        env = {**layout.env, **(extra_env or {})}
        super().__init__("server", layout.root, env, command=layout.argv, cwd=layout.app, inherit=False)
        self.layout = layout


@contextlib.contextmanager
def server_log_on_failure(*servers: Server) -> Iterator[None]:
    """Append the servers' log tails to a failing assertion: the 500 alone says nothing."""
    try:
        yield
    except AssertionError as exc:
        tails = "\n".join(f"--- {server.log_path} ---\n{server.log_tail(3000)}" for server in servers)
        raise AssertionError(f"{exc}\n{tails}") from None


def assert_clean_stop(code: int | None, log: str) -> None:
    """SIGTERM ends the server gracefully (uvicorn re-raises the signal afterwards, so the exit
    status is either 0 or 'killed by SIGTERM' once shutdown has completed)."""
    assert code in (0, -15), log[-3000:]
    assert "Application shutdown complete" in log, log[-3000:]


def launch(layout: Layout, prefix: list[str] | None = None, extra_env: dict[str, str] | None = None) -> Server:
    """Start the image's command (optionally under `prefix`) without waiting for it."""
    server = Server(layout, extra_env)
    server.start(prefix or ())
    return server


def wait_live(server: Server) -> Server:
    """Wait until GET /health/live answers 200; stop the server and fail if it never does."""
    server.wait_ready(START_TIMEOUT, "/health/live")
    return server


def start(layout: Layout, prefix: list[str] | None = None, extra_env: dict[str, str] | None = None) -> Server:
    return wait_live(launch(layout, prefix, extra_env))
