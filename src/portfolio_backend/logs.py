"""Structured JSON logs on stderr, one object per line, written off the event loop.

A log call formats its record where it is made (the request id is a context variable there) and
puts the line on a queue; one thread writes the queue to stderr. A write to a slow or full pipe
(a log collector that lags, a terminal paused) then holds that thread, never the event loop and
the streams it serves. The stdlib's QueueHandler and QueueListener do exactly this.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import queue
import sys
import threading
import traceback
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from typing import Any

from .observability import RequestIdFilter
from .settings import Settings

# LogRecord attributes that are not extra fields
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


# A traceback in the log is bounded: a RecursionError through frames that alternate (a deeply
# nested body once did it) printed 230 kB per request. The innermost frames and the message say
# what broke; the outermost are the framework's.
TRACEBACK_FRAMES = 24
TRACEBACK_CHARS = 3000


class JsonFormatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:  # logging's name
        """The last TRACEBACK_FRAMES frames of each exception in the chain, and the last TRACEBACK_CHARS
        characters of that (frames beyond are never looked up: a hostile request buys no CPU here)."""
        text = "".join(traceback.format_exception(ei[0], ei[1], ei[2], limit=-TRACEBACK_FRAMES)).rstrip("\n")
        if len(text) > TRACEBACK_CHARS:
            text = f"[{len(text) - TRACEBACK_CHARS} characters cut]\n{text[-TRACEBACK_CHARS:]}"
        return text

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


_listener: QueueListener | None = None
_prompts = logging.getLogger("portfolio_backend.prompts")


def log_prompt(prompt: str, session_id: str | None) -> None:
    """LOG_PROMPTS: a visitor's prompt, with a fingerprint of its session, so that one
    conversation's prompts can be followed. Never the session id: it is a bearer secret (whoever
    holds it reads the whole history), and logs travel further than the store."""
    session = hashlib.sha256(session_id.encode()).hexdigest()[:16] if session_id else None
    _prompts.info("prompt", extra={"prompt": prompt, "session": session})


# Lines waiting for stderr. Past this many (stderr stuck: a log collector that stopped reading),
# new lines are dropped and counted rather than held in memory without bound, or the caller blocked.
QUEUED_LINES = 10_000


class _DroppingQueueHandler(QueueHandler):
    """Puts each line on the writer's queue, or drops it when the queue is full; the next line
    that gets through says how many were dropped (`log_lines_dropped`)."""

    def __init__(self, lines: queue.Queue[logging.LogRecord]) -> None:
        super().__init__(lines)
        self.lines = lines
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        if self.dropped and not self.lines.full():
            record.log_lines_dropped, self.dropped = self.dropped, 0
        super().emit(record)

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.lines.put_nowait(record)
        except queue.Full:
            self.dropped += 1


class _Writer(QueueListener):
    def enqueue_sentinel(self) -> None:
        self.queue.put(self._sentinel)  # type: ignore[attr-defined]  # waits for room: a full queue is written first


@atexit.register
def flush_logs() -> None:
    """Write what is queued and end the writer thread (at exit, or before configuring again)."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None


# Once a minute per failure: 50 hostile requests in 3 s once wrote 11.5 MB of the same traceback.
REPEAT_WINDOW_SECONDS = 60.0
# failures remembered at once; past that the memory starts again (a few more tracebacks, never more memory)
FAILURES_REMEMBERED = 1000


class RepeatedFailures(logging.Filter):
    """A failure logged with its exception (the same logger, message, exception type and innermost
    line) is written once per REPEAT_WINDOW_SECONDS; the repeats in between are dropped and counted,
    and the next one written says how many (`repeats`). Every request still has its access line."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()  # the server's threads log too (uvicorn's, to_thread's)
        self._failures: dict[tuple[object, ...], tuple[float, int]] = {}  # -> (first written, repeats since)

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None:
            return True
        tb = error.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno) if tb is not None else None
        key = (record.name, record.msg, type(error).__qualname__, where)
        with self._lock:
            written_at, repeats = self._failures.get(key, (None, 0))
            if written_at is not None and record.created - written_at < REPEAT_WINDOW_SECONDS:
                self._failures[key] = (written_at, repeats + 1)
                return False
            if len(self._failures) >= FAILURES_REMEMBERED:
                self._failures.clear()
            self._failures[key] = (record.created, 0)
        if repeats:
            record.repeats = repeats
        return True


def _lines_handler(handler: logging.Handler) -> logging.Handler:
    handler.setFormatter(JsonFormatter())  # in the caller's thread, where the request id is known
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RepeatedFailures())
    return handler


def write_logs_directly() -> None:
    """From now on write each line at once, in the caller's thread: for after the app has shut
    down, when no stream is served any more. uvicorn then ends the process by raising SIGTERM
    again, which skips atexit: lines still queued would be lost (its own last ones among them)."""
    if _listener is None:
        return
    stream = _listener.handlers[0].stream  # type: ignore[attr-defined]  # the writer's StreamHandler
    flush_logs()
    logging.getLogger().handlers[:] = [_lines_handler(logging.StreamHandler(stream))]


def configure_logging(settings: Settings) -> None:
    """JSON lines on stderr, written by a thread of their own (`flush_logs` ends it)."""
    global _listener
    flush_logs()  # configured again: one writer at a time
    lines: queue.Queue[logging.LogRecord] = queue.Queue(QUEUED_LINES)
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(logging.Formatter("%(message)s"))  # the record's message is already its JSON line
    _listener = _Writer(lines, writer)
    _listener.start()
    root = logging.getLogger()
    root.handlers[:] = [_lines_handler(_DroppingQueueHandler(lines))]
    root.setLevel(settings.log_level)
    # our RequestEdge middleware writes the access log, with the request id and route
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # httpx2 logs every request URL at INFO; URLs can carry API keys in query strings
    logging.getLogger("httpx2").setLevel(logging.WARNING)
