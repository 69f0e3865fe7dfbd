"""Prometheus metrics, the request id and the access log (written by middleware.RequestEdge).

Metrics live in a registry per app (so tests can build many apps), served at /metrics. With
several uvicorn workers (`WEB_CONCURRENCY`), prometheus-client's multiprocess mode gives one view:
each worker writes its values to files in PROMETHEUS_MULTIPROC_DIR and a scrape, whichever worker
answers it, reads and sums them all. `python main.py` sets that directory up before the workers
start (`share_metrics_between_workers`). The mode's limits hold here: there is no Gauge (one would
need a `multiprocess_mode` and `mark_process_dead`) and no custom collector.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import tempfile
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from .llm import Usage

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


access_log = logging.getLogger("portfolio_backend.access")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Chat turns take seconds; these buckets separate a snappy first token from a stalled upstream.
_TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
_STREAM_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        # prometheus-client reads the variable when it is imported; a worker inherits it from main.py
        self.shared_dir: str | None = os.environ.get(MULTIPROC_DIR_VARIABLE) or None
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
        # plain labelled Counters: they aggregate across processes in prometheus multiprocess mode
        self.tokens = Counter(
            "portfolio_llm_tokens",
            "Model tokens by model, kind (prompt, cached, completion) and whether the server reported them",
            ["model", "kind", "source"],
            registry=r,
        )
        self.cost_usd = Counter("portfolio_llm_cost_usd", "Model spend in USD (price table)", ["model"], registry=r)
        self.tool_calls = Counter(
            "portfolio_tool_calls", "Tool calls by tool and outcome", ["tool", "outcome"], registry=r
        )
        self.quota_rejections = Counter("portfolio_quota_rejections", "429s by bound", ["bound"], registry=r)
        self.upstream_errors = Counter("portfolio_upstream_errors", "Failed model calls by kind", ["kind"], registry=r)
        self.turns = Counter("portfolio_chat_turns", "Chat turns by outcome", ["outcome"], registry=r)
        self.overload_refusals = Counter(
            "portfolio_overload_refusals", "Turns refused because the process was at MAX_INFLIGHT_TURNS", registry=r
        )
        self.feedback = Counter(
            "portfolio_feedback", "Visitors' ratings of answers (POST /feedback)", ["rating"], registry=r
        )

    def count_usage(self, model: str, usage: Usage, cost_micro_usd: int) -> None:
        """One turn's tokens and cost; `source` is "estimated" when the server reported no usage."""
        source = "estimated" if usage.estimated else "reported"
        for kind, tokens in (
            ("prompt", usage.prompt_tokens),
            ("cached", usage.cached_tokens),
            ("completion", usage.completion_tokens),
        ):
            if tokens:
                self.tokens.labels(model, kind, source).inc(tokens)
        if cost_micro_usd:
            self.cost_usd.labels(model).inc(cost_micro_usd / 1_000_000)

    async def exposition(self) -> bytes:
        """The text a scrape reads: this process's registry, or every worker's values summed."""
        if self.shared_dir is None:
            return generate_latest(self.registry)
        return await asyncio.to_thread(_every_worker, self.shared_dir)  # reads one file per worker


def _every_worker(path: str) -> bytes:
    registry = CollectorRegistry()  # per scrape, as the client's docs advise: only the files' values
    MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]  # the client ships no types here
    return generate_latest(registry)


def share_metrics_between_workers(workers: int) -> Path | None:
    """Set up prometheus-client's multiprocess mode for `workers` processes, before any is started.

    Uses PROMETHEUS_MULTIPROC_DIR when set (and when there is one worker, only then), else makes a
    temporary directory and sets the variable for the workers to inherit. Its value files are
    removed first: a file left by an earlier run would add that run's counts. Returns the directory
    it made, for the caller to remove at exit.
    """
    given = os.environ.get(MULTIPROC_DIR_VARIABLE)
    if not given and workers < 2:
        return None
    made = None if given else Path(tempfile.mkdtemp(prefix="portfolio-metrics-"))
    directory = Path(given) if given else made
    assert directory is not None
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_DIR_VARIABLE] = str(directory)
    return made


class RequestIdFilter(logging.Filter):
    """Stamps every log record with the current request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
