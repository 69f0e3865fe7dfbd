"""The image's start command, run on the host the way the container runs it.

The engine-free counterpart of test_image.py (which builds and runs the image where a Docker
engine answers), so that machines without one still check the start command. These tests lay out
the files the Dockerfile's runtime stage copies (main.py, data/system_prompt.md, healthcheck.py)
in a fresh directory standing in for /app, give the process the image's ENV (paths under /app
and /data mapped to that directory and a data directory), run the image's CMD with this
interpreter's environment standing in for /app/.venv, and talk to it over loopback.

- Always: the server comes up, answers health, sessions and a streamed turn, passes the image's
  HEALTHCHECK script, stops cleanly on SIGTERM, and leaves the app directory untouched.
- Where this user may make a mount namespace (root here): the same on a read-only root
  filesystem, as `read_only: true` does in docker-compose.prod.yml. Only a tmpfs stays writable
  (for /tmp, and for the data volume with SQLite); with Redis, the data directory is read-only too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .dockerfile import Dockerfile
from .files import HEALTHCHECK, REPO
from .image_command import Layout, Server, assert_clean_stop, image_layout, server_log_on_failure, start

pytestmark = pytest.mark.slow

# Remount every filesystem read-only inside a private mount namespace (the host is unaffected:
# bind remounts change only this namespace's view), except a fresh tmpfs for what may be written.
READ_ONLY_ROOT = r"""
set -eu
scratch="$1"; shift
mount -t tmpfs -o size=64m,mode=0755 portfolio-rw "$scratch"
mkdir -p "$scratch/data" "$scratch/tmp"
chmod 1777 "$scratch/tmp"
for mp in $(awk '{print $5}' /proc/self/mountinfo | sort -u); do
  case "$mp" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*|"$scratch") continue ;; esac
  mount -o remount,bind,ro "$mp"
done
if touch "$PWD/.write-probe" 2>/dev/null; then
  echo "the root filesystem is still writable" >&2
  exit 97
fi
exec "$@"
"""


def _app_importable() -> str | None:
    if not (REPO / "main.py").exists():
        return "main.py does not exist yet"
    probe = subprocess.run(
        [sys.executable, "-c", "import portfolio_backend.app"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return None if probe.returncode == 0 else f"the app does not import yet: {probe.stderr[-500:]}"


@pytest.fixture(scope="module", autouse=True)
def _app_must_import() -> None:
    reason = _app_importable()
    if reason:
        pytest.skip(reason)


def exercise(server: Server, storage: str) -> None:
    """What a visitor does, so the app's writes (if any) happen: health, a session, a turn."""
    status, body = server.request("GET", "/health")
    assert status == 200, body
    assert json.loads(body)["storage"]["backend"] == storage

    status, body = server.request("POST", "/session")
    assert status in (200, 201), body
    session_id = json.loads(body)["session_id"]

    status, body = server.request("POST", "/stream", {"prompt": "Hello, who are you?", "session_id": session_id})
    assert status == 200, body
    events = [json.loads(line[6:]) for line in body.decode().splitlines() if line.startswith("data: ")]
    assert events, body
    assert events[-1]["type"] == "end", events[-3:]
    assert any(event["type"] == "chunk" for event in events)

    status, body = server.request("GET", f"/session/{session_id}")
    assert status == 200, body
    assert json.loads(body)["message_count"] == 2

    probe = subprocess.run(
        [sys.executable, str(server.layout.app / "healthcheck.py")],
        env={"PATH": os.environ.get("PATH", ""), "PORT": str(server.port)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert probe.returncode == 0, probe.stderr


@pytest.fixture
def layout(dockerfile: Dockerfile, tmp_path: Path) -> Layout:
    made = image_layout(dockerfile, tmp_path)
    assert (made.app / "healthcheck.py").read_bytes() == HEALTHCHECK.read_bytes()
    return made


def test_image_command_serves_and_writes_only_to_the_data_volume(layout: Layout) -> None:
    before = layout.snapshot()
    server = start(layout)
    try:
        with server_log_on_failure(server):
            exercise(server, "sqlite")
    finally:
        code = server.stop()
    assert_clean_stop(code, server.log_text())
    assert layout.snapshot() == before, "the app wrote into its (read-only in the image) app directory"
    assert Path(layout.env["DATABASE_PATH"]).exists(), "SQLite should live on the /data volume"
    assert Path(layout.env["DATABASE_PATH"]).parent == layout.data


# --------------------------------------------------------------------------------------------
# a really read-only root filesystem
# --------------------------------------------------------------------------------------------


def _namespace_prefix(tmp_path: Path) -> list[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe_dir = tmp_path / "probe"
    probe_dir.mkdir()
    probe = subprocess.run(
        [
            unshare,
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            f"mount -t tmpfs probe '{probe_dir}' && umount '{probe_dir}'",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.strip()[-300:]}")
    script = tmp_path / "read-only-root.sh"
    script.write_text(READ_ONLY_ROOT)
    return [unshare, "--mount", "--propagation", "private", "sh", str(script), str(tmp_path / "rw")]


@pytest.mark.parametrize("storage", ["sqlite", "redis"])
def test_image_command_on_a_read_only_root_filesystem(
    layout: Layout, tmp_path: Path, storage: str, request: pytest.FixtureRequest
) -> None:
    prefix = _namespace_prefix(tmp_path)
    (tmp_path / "rw").mkdir()
    writable = tmp_path / "rw"
    extra = {"TMPDIR": str(writable / "tmp")}
    if storage == "sqlite":
        # the /data volume: writable, like the volume Docker mounts there
        extra["DATABASE_PATH"] = str(writable / "data" / Path(layout.env["DATABASE_PATH"]).name)
    else:
        # with Redis nothing but /tmp is writable: the data directory stays read-only too
        extra["REDIS_URL"] = request.getfixturevalue("redis_url")
    server = start(layout, prefix=prefix, extra_env=extra)
    try:
        with server_log_on_failure(server):
            exercise(server, storage)
    finally:
        code = server.stop()
    log = server.log_text()
    assert_clean_stop(code, log)
    assert "Read-only file system" not in log, log[-3000:]
    if storage == "redis":
        assert not any(layout.data.iterdir()), "nothing may be written to /data with Redis"
