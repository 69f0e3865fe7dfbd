"""The one pure-ASGI middleware of every request: nothing here buffers a stream (a body-wrapping
middleware such as BaseHTTPMiddleware or GZip holds back or slows every SSE chunk).

Request id, security headers, the body's size and depth limits, the access log and the request metrics are one
wrapper, not three: on a stream each wrapper adds a send function every chunk passes through, and a
coroutine frame and closures per request.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .json_depth import JSON_MAX_DEPTH, nested_deeper_than
from .observability import Metrics, access_log, request_id_var
from .turns.lifecycle import OVERLOADED_MESSAGE, OVERLOADED_RETRY_SECONDS

# The routes that start a chat turn: refused at the edge when the process is at MAX_INFLIGHT_TURNS
TURN_PATHS = frozenset({"/stream", "/api/chat"})

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"cross-origin"),
]

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestEdge:
    """Around every HTTP request: a request id (X-Request-ID accepted when sane, else generated,
        always returned), the security headers, bodies over `max_bytes` refused with a JSON 413 (by
        Content-Length or as the bytes arrive), bodies nested deeper than JSON_MAX_DEPTH refused with a
        JSON 422 once the last byte arrived, before anything parses them (every body we take is JSON),
        a new turn (TURN_PATHS) refused with a JSON 503 and Retry-After when the process runs
    MAX_INFLIGHT_TURNS already, one JSON access log line and the request metrics.
        Logs the route template, never the path (it holds session ids), the query string or a body."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id: str | None = None
        too_large = False
        for name, value in scope["headers"]:
            if name == b"x-request-id" and request_id is None:
                request_id = value.decode("latin-1")
            elif name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                too_large = True
        if request_id is None or not _SAFE_REQUEST_ID.match(request_id):
            # a correlation id, not a secret: uuid4 would cost a getrandom() system call per request
            request_id = f"{random.getrandbits(128):032x}"
        token = request_id_var.set(request_id)
        started_at = time.perf_counter()
        status = 500
        started = False
        received = 0
        chunks: list[bytes] = []
        extra_headers = [*SECURITY_HEADERS, (b"x-request-id", request_id.encode())]

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    body = chunk if len(chunks) == 1 else b"".join(chunks)
                    if nested_deeper_than(body, JSON_MAX_DEPTH):
                        raise _TooDeep()
            return message

        async def edge_send(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *extra_headers]
            await send(message)

        try:
            if too_large:
                await self._refuse(edge_send, _TooLarge(self.max_bytes))
            elif scope["method"] == "POST" and scope["path"] in TURN_PATHS and _at_capacity(scope):
                # before the body is read or a route runs: at twice the saturating load, a refusal
                # that parsed and routed first cost what a turn's admission does (bench, overload)
                self.metrics.overload_refusals.inc()
                await self._refuse(edge_send, _Overloaded())
            else:
                try:
                    await self.app(scope, limited_receive, edge_send)
                except _BodyRefused as exc:  # read outside a route's body parameter: FastAPI renders the others
                    if not started:
                        await self._refuse(edge_send, exc)
        finally:
            elapsed = time.perf_counter() - started_at
            # the route template (`/session/{session_id}`), known once the router has run; never the
            # raw path, whose session ids are the bearer secrets of a chat history
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.request_seconds.labels(route).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s",
                    scope["method"],
                    route,
                    status,
                    extra={"status": status, "duration_ms": round(elapsed * 1000, 1), "route": route},
                )
            request_id_var.reset(token)

    async def _refuse(self, send: Send, refused: _BodyRefused) -> None:
        body = json.dumps({"error": refused.error, "detail": refused.detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [(name.lower().encode(), value.encode()) for name, value in (refused.headers or {}).items()]
        await send({"type": "http.response.start", "status": refused.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _BodyRefused(HTTPException):
    """An HTTPException, so FastAPI's body reader passes it on rather than calling it a parse error."""

    error = "http_error"


class _TooLarge(_BodyRefused):
    error = "payload_too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"Request body is too large: at most {max_bytes} bytes.")


class _Overloaded(_BodyRefused):
    error = "service_unavailable"

    def __init__(self) -> None:
        super().__init__(503, OVERLOADED_MESSAGE, headers={"Retry-After": str(OVERLOADED_RETRY_SECONDS)})


def _at_capacity(scope: Scope) -> bool:
    """Whether this process runs MAX_INFLIGHT_TURNS turns already (the lifespan's TurnLifecycle)."""
    turns = scope.get("state", {}).get("turns")
    return turns is not None and bool(turns.at_capacity)


class _TooDeep(_BodyRefused):
    error = "validation_error"

    def __init__(self) -> None:
        super().__init__(422, f"Request body nests too deep: at most {JSON_MAX_DEPTH} levels of arrays and objects.")
