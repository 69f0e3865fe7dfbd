"""The floors in pyproject.toml admit no release that lacks an API the code calls."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

from packaging.requirements import Requirement

from .conftest import ROOT


def requirement(name: str) -> Requirement:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(text) for text in project["dependencies"] if Requirement(text).name == name]
    assert len(found) == 1, f"{name} is declared {len(found)} times"
    return found[0]


def test_the_redis_floor_admits_no_release_without_driver_info_or_the_cluster_client_we_test() -> None:
    # store/redis.py passes `driver_info=DriverInfo()` and works around redis-py 8.1's cluster start-up;
    # 8.1 is the release the suite runs on
    floor = requirement("redis").specifier
    assert not floor.contains("8.0.0")
    assert not floor.contains("5.0.0")
    assert floor.contains("8.1.0")


def test_the_service_loads_one_http_stack() -> None:
    # the openai SDK is built on httpx2; a second stack (httpx) meant two exception trees to map
    code = "import sys, main; print('httpx' in sys.modules, 'httpx2' in sys.modules)"
    env = {**os.environ, "OPENAI_API_KEY": "sk-test", "REDIS_URL": "", "REDIS_HOST": ""}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["False", "True"]
