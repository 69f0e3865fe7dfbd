"""The production load balancer's nginx config: what it says, `nginx -t`, and a live nginx with
that config in front of two stand-in replicas on loopback (streaming, forwarded headers,
round robin, a replica down).

The live tests rewrite only what ties the file to Docker: the upstream's DNS name (Docker's
resolver) becomes two loopback ports, the listen port a free one, /tmp a private directory.
"""

from __future__ import annotations

import contextlib
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

from ..fixtures.processes import free_port, stop
from .dockerfile import Dockerfile
from .files import NGINX_CONF
from .nginx import UPSTREAM_SERVER, local_nginx_conf, nginx_or_skip, start_nginx
from .raw_http import CLIENT, raw_get, raw_request


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


def test_metrics_are_never_served_on_the_public_port(conf: str) -> None:
    """Prometheus scrapes each replica on the Compose network (docs/deployment.md), never through here."""
    directives = _directives(conf)
    start = directives.index("location ^~ /metrics {")
    assert directives[start + 1 : directives.index("}", start)][-1].startswith("return 404")


def test_upstream_is_the_compose_service_re_resolved_through_docker_dns(conf: str, dockerfile: Dockerfile) -> None:
    match = UPSTREAM_SERVER.search(conf)
    assert match, "the upstream should name the Compose service with `resolve`"
    expose = dockerfile.final.last("EXPOSE")
    assert expose is not None
    assert match.group(1) == expose.value.split("/")[0]
    assert "resolver 127.0.0.11 valid=10s ipv6=off;" in _directives(conf)
    assert "listen 8080;" in _directives(conf), "docker-compose.prod.yml publishes container port 8080"


def test_everything_nginx_writes_is_under_tmp(conf: str) -> None:
    directives = _directives(conf)
    for name in (
        "pid",
        "client_body_temp_path",
        "proxy_temp_path",
        "fastcgi_temp_path",
        "uwsgi_temp_path",
        "scgi_temp_path",
    ):
        line = next((line for line in directives if line.startswith(name + " ")), None)
        assert line is not None, name
        assert line.split()[1].startswith("/tmp/"), name
    logs = [line for line in directives if line.startswith(("access_log", "error_log"))]
    assert all(line.split()[1].rstrip(";") in ("/dev/stdout", "/dev/stderr", "off") for line in logs), logs


# --------------------------------------------------------------------------------------------
# a real nginx
# --------------------------------------------------------------------------------------------


def test_nginx_accepts_the_config(conf: str, tmp_path: Path) -> None:
    nginx = nginx_or_skip()
    local = tmp_path / "nginx.conf"
    local.write_text(local_nginx_conf(conf, tmp_path, free_port(), upstreams=None))
    result = subprocess.run(
        [*nginx, "-t", "-p", f"{tmp_path}/", "-e", str(tmp_path / "error.log"), "-c", str(local)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


class _Replica(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ReplicaServer

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.request)

    def do_GET(self) -> None:
        body = json.dumps({"replica": self.server.name, "headers": dict(self.headers.items())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
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

    def log_message(self, format: str, *args: object) -> None:
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
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


@dataclass
class Balancer:
    port: int
    replicas: list[_ReplicaServer]
    proc: subprocess.Popen[bytes]


@pytest.fixture
def balancer(conf: str, tmp_path: Path) -> Iterator[Balancer]:
    nginx_or_skip()
    replicas = [_ReplicaServer("a"), _ReplicaServer("b")]
    threads = [threading.Thread(target=r.serve_forever, daemon=True) for r in replicas]
    for thread in threads:
        thread.start()
    port = free_port()
    proc = start_nginx(conf, tmp_path, port, [r.server_address[1] for r in replicas])  # type: ignore[misc]
    try:
        yield Balancer(port, replicas, proc)
    finally:
        stop(proc)
        for replica in replicas:
            replica.kill()


@pytest.mark.slow
def test_events_reach_the_client_one_at_a_time(balancer: Balancer) -> None:
    body = b'{"prompt": "hi"}'
    raw = (
        b"POST /stream HTTP/1.1\r\nHost: portfolio.example\r\nContent-Type: application/json\r\n"
        b"Accept: text/event-stream\r\nAccept-Encoding: gzip, deflate\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )
    sock, first = raw_request(balancer.port, raw, until=b"data: one")
    try:
        assert b"data: one" in first, f"the first event was held back: {first!r}"
        assert b"data: two" not in first
        for replica in balancer.replicas:
            replica.release.set()
        _, rest = raw_request(balancer.port, b"", until=b"0\r\n\r\n", sock=sock)
    finally:
        sock.close()
    head = first.split(b"\r\n\r\n", 1)[0].lower()
    assert b"content-type: text/event-stream" in head
    assert b"content-encoding" not in head, "event streams must not be compressed"
    assert b"data: two" in rest


@pytest.mark.slow
def test_the_balancer_replaces_forwarded_headers(balancer: Balancer) -> None:
    status, seen = raw_get(
        balancer.port,
        "/whoami",
        "X-Forwarded-For: 203.0.113.9\r\nForwarded: for=198.51.100.7\r\nX-Real-IP: 192.0.2.1\r\n",
    )
    assert status == 200
    headers = {key.lower(): value for key, value in seen["headers"].items()}  # type: ignore[union-attr]
    assert headers["x-forwarded-for"] == CLIENT, "a client-written X-Forwarded-For must not pass"
    assert "forwarded" not in headers
    assert headers["x-real-ip"] == CLIENT
    assert headers["x-forwarded-proto"] == "http"
    assert headers["host"] == "portfolio.example"


@pytest.mark.slow
def test_requests_are_spread_over_the_replicas_and_survive_one_down(balancer: Balancer) -> None:
    served = [raw_get(balancer.port, "/whoami")[1]["replica"] for _ in range(6)]
    assert set(served) == {"a", "b"}, served
    balancer.replicas[0].kill()
    after = [raw_get(balancer.port, "/whoami") for _ in range(4)]
    assert [status for status, _ in after] == [200] * 4
    assert {seen["replica"] for _, seen in after} == {"b"}


@pytest.mark.slow
def test_the_balancer_answers_metrics_404_without_asking_a_replica(balancer: Balancer) -> None:
    for path in ("/metrics", "/metrics/", "/metrics?x=1", "//metrics", "/%6Detrics"):
        status, seen = raw_get(balancer.port, path, "Authorization: Bearer a-guess\r\n")
        assert status == 404, path
        assert seen == {"error": "not_found", "detail": "Not Found"}, path  # never a replica's answer
    assert raw_get(balancer.port, "/whoami")[0] == 200
