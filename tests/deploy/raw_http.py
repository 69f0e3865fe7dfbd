"""Raw HTTP/1.1 over loopback from a chosen client address: the headers go exactly as written (a
spoofed X-Forwarded-For included), and a balancer's `$remote_addr` is recognisable as CLIENT."""

from __future__ import annotations

import json
import socket

CLIENT = "127.0.0.2"  # clients connect from here


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
