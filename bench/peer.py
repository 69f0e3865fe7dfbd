"""What a user would deploy instead: the LiteLLM proxy, in an environment of its own, on the same upstream.

`install_litellm()` makes a uv-managed virtual environment under bench/results/peers/ (git-ignored)
and installs `litellm[proxy]` there, once: the project's pyproject and uv.lock never see it.
`start_litellm()` writes a config.yaml with one model pointing at the bench's scripted upstream and
starts the proxy on a free port, with everything that needs a database or the network off: no
DATABASE_URL (no virtual keys, no spend logs), telemetry disabled, the model cost map read from
the package instead of fetched. It gets a random master key (it refuses to start without one, and
a deployment checks one), which the load generator sends as its bearer token.

The load generator then sends the proxy the very body the service sends the upstream (captured
from the upstream), so both relays carry the same messages to the same model.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from bench.client import Target
from bench.procs import Process
from tests.fixtures.processes import free_port, log_tail, wait_until
from tests.fixtures.service import ROOT

PEERS = ROOT / "bench" / "results" / "peers"
LITELLM_SPEC = "litellm[proxy]"


def uv_command() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def install_litellm(spec: str = LITELLM_SPEC, home: Path = PEERS / "litellm") -> Path:
    """The proxy's environment, created and filled on first use; returns its `litellm` executable."""
    executable = home / "bin" / "litellm"
    marker = home / "installed.txt"  # the spec last installed: a changed --peer-spec reinstalls
    if executable.exists() and marker.exists() and marker.read_text() == spec:
        return executable
    home.parent.mkdir(parents=True, exist_ok=True)
    log = home.parent / "litellm-install.log"
    with open(log, "wb") as out:
        for argv in (
            [*uv_command(), "venv", "--allow-existing", "--python", sys.executable, str(home)],
            [*uv_command(), "pip", "install", "--python", str(home / "bin" / "python"), spec],
        ):
            # the project's own VIRTUAL_ENV must not be where uv installs
            env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
            if subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env).returncode:
                raise RuntimeError(f"installing {spec} failed: {' '.join(argv)}\n{log_tail(log, 800)}")
    marker.write_text(spec)
    return executable


def litellm_version(executable: Path) -> str:
    code = "import importlib.metadata as m; print(m.version('litellm'))"
    return subprocess.run(
        [str(executable.parent / "python"), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def litellm_config(upstream_port: int, model: str) -> str:
    """One model (the one the service asks for), the scripted upstream behind it; retries off, as the
    service runs (OPENAI_MAX_RETRIES=0)."""
    return (
        "model_list:\n"
        f"  - model_name: {model}\n"
        "    litellm_params:\n"
        f"      model: openai/{model}\n"
        f"      api_base: http://127.0.0.1:{upstream_port}/v1\n"
        "      api_key: sk-bench\n"
        "litellm_settings:\n"
        "  num_retries: 0\n"
        "  request_timeout: 600\n"
        "  drop_params: true\n"
        "  set_verbose: false\n"
        "  json_logs: false\n"
        "general_settings:\n"
        "  disable_spend_logs: true\n"
        "  disable_error_logs: true\n"
    )


class Peer:
    """A started proxy: its process, port and the master key its clients send."""

    def __init__(self, process: Process, port: int, key: str) -> None:
        self.process = process
        self.port = port
        self.key = key

    def target(self, upstream_body: bytes) -> Target:
        """The body the service sends upstream, to the proxy's /v1/chat/completions.

        The proxy re-encodes each chunk without spaces after colons; the scripted upstream's text
        deltas all start "tok", which its role-only and usage chunks never carry."""
        return Target("127.0.0.1", self.port, "/v1/chat/completions", upstream_body, b'"content":"tok', token=self.key)


def start_litellm(executable: Path, upstream_port: int, model: str, log_dir: Path, workers: int = 1) -> Peer:
    config = log_dir / "litellm-config.yaml"
    config.write_text(litellm_config(upstream_port, model))
    port = free_port()
    key = "sk-" + secrets.token_hex(32)
    drop = ("DATABASE_URL", "LITELLM_MASTER_KEY", "OPENAI_", "REDIS_", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)} | {
        "LITELLM_MASTER_KEY": key,
        "LITELLM_TELEMETRY_DISABLED": "true",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the cost map at import
        "LITELLM_LOG": "ERROR",
        "NO_DOCS": "True",
        "DISABLE_ADMIN_UI": "True",
    }
    argv = [str(executable), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--num_workers", str(workers)]
    process = Process("litellm", argv, log_dir, env)
    try:
        wait_until(lambda: _live(port), "the LiteLLM proxy", process=process.popen, log=process.log_path, timeout=120.0)
    except BaseException:
        process.stop()
        raise
    return Peer(process, port, key)


def _live(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/liveliness", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False
