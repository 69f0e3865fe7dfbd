"""Prometheus metrics and the request-id access log, as pure ASGI (nothing buffers a stream).

Metrics live in a registry per app (so tests can build many apps), served at /metrics. With
several uvicorn workers each process exposes its own; scrape them per process.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("portfolio_backend.access")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Chat turns take seconds; these buckets separate a snappy first token from a stalled upstream.
_TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
_STREAM_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "portfolio_http_requests", "HTTP requests by route and status", ["method", "route", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "portfolio_http_request_duration_seconds", "Time to the last byte of a response", ["route"], registry=r
        )
        self.stream_seconds = Histogram(
            "portfolio_stream_duration_seconds", "Duration of chat streams", buckets=_STREAM_BUCKETS, registry=r
        )
        self.ttft_seconds = Histogram(
            "portfolio_time_to_first_token_seconds",
            "Time from the request to the first streamed token",
            buckets=_TTFT_BUCKETS,
            registry=r,
        )
        self.tokens = Counter("portfolio_llm_tokens", "Tokens reported by the model", ["direction"], registry=r)
        self.tool_calls = Counter(
            "portfolio_tool_calls", "Tool calls by tool and outcome", ["tool", "outcome"], registry=r
        )
        self.quota_rejections = Counter("portfolio_quota_rejections", "429s by bound", ["bound"], registry=r)
        self.upstream_errors = Counter("portfolio_upstream_errors", "Failed model calls by kind", ["kind"], registry=r)
        self.turns = Counter("portfolio_chat_turns", "Chat turns by outcome", ["outcome"], registry=r)


class RequestObserver:
    """Request id (X-Request-ID accepted when sane, else generated, always returned), one JSON
    access log line per request, and the request metrics. Never logs bodies or query strings."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
                break
        if not _SAFE_REQUEST_ID.match(request_id):
            request_id = uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", request_id.encode())

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.request_seconds.labels(route).observe(elapsed)
            log.info(
                "%s %s %s",
                scope["method"],
                route,
                status,
                extra={"status": status, "duration_ms": round(elapsed * 1000, 1), "path": scope["path"]},
            )
            request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Stamps every log record with the current request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
