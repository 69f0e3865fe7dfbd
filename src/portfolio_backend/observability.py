"""Prometheus metrics, the request id and the access log (written by middleware.RequestEdge).

Metrics live in a registry per app (so tests can build many apps), served at /metrics. With
several uvicorn workers each process exposes its own; scrape them per process.
"""

from __future__ import annotations

import contextvars
import logging

from prometheus_client import CollectorRegistry, Counter, Histogram

access_log = logging.getLogger("portfolio_backend.access")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

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


class RequestIdFilter(logging.Filter):
    """Stamps every log record with the current request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
