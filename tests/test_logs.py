"""Logs are JSON lines on stderr, written by a thread of their own: a slow stderr (a lagging log
collector, a paused terminal) must never hold the event loop that serves the streams."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
from collections.abc import Iterator

import pytest

from portfolio_backend import logs
from portfolio_backend.logs import configure_logging, flush_logs, write_logs_directly
from portfolio_backend.observability import request_id_var
from portfolio_backend.settings import Settings


class SlowStderr:
    """Records which thread wrote each line; each write waits until the test lets it go."""

    def __init__(self) -> None:
        self.writes: list[tuple[int, str]] = []
        self.released = threading.Event()

    def write(self, text: str) -> int:
        self.released.wait(10)
        self.writes.append((threading.get_ident(), text))
        return len(text)

    def flush(self) -> None:
        pass

    def lines(self) -> list[dict[str, object]]:
        text = "".join(written for _, written in self.writes)
        return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowStderr]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    slow = SlowStderr()
    monkeypatch.setattr(sys, "stderr", slow)
    configure_logging(Settings(_env_file=None, log_level="INFO"))  # type: ignore[call-arg]
    yield slow
    slow.released.set()
    flush_logs()
    root.handlers[:], root.level = handlers, level
    logging.getLogger("uvicorn.access").disabled = False


async def test_a_log_call_returns_while_stderr_is_blocked_and_the_line_is_written_later(stderr: SlowStderr) -> None:
    log = logging.getLogger("portfolio_backend.test")
    token = request_id_var.set("req-7")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("turn failed", extra={"turn": 3})  # stderr is blocked: this must not wait
        # the loop is free: another task runs while the line waits for stderr
        assert await asyncio.wait_for(asyncio.sleep(0, result="ran"), 1) == "ran"
        assert stderr.writes == []
    finally:
        request_id_var.reset(token)

    stderr.released.set()
    flush_logs()

    assert stderr.writes
    assert all(thread != threading.get_ident() for thread, _ in stderr.writes)
    [line] = stderr.lines()
    assert line["message"] == "turn failed"
    assert line["level"] == "ERROR"
    assert line["request_id"] == "req-7", "the request id is read where the log call is made"
    assert line["turn"] == 3
    assert "ValueError: boom" in str(line["exception"])


def test_after_the_app_has_shut_down_lines_are_written_at_once(stderr: SlowStderr) -> None:
    """uvicorn ends the process by raising SIGTERM again once the app has shut down, which skips
    atexit: its last lines ("Application shutdown complete") must not wait in the queue."""
    stderr.released.set()
    write_logs_directly()  # the lifespan's last step
    logging.getLogger("portfolio_backend.test").info("Application shutdown complete.")

    assert [(thread, json.loads(text)["message"]) for thread, text in stderr.writes] == [
        (threading.get_ident(), "Application shutdown complete.")
    ]


async def test_a_stuck_stderr_drops_lines_past_the_bound_and_says_how_many(
    monkeypatch: pytest.MonkeyPatch, stderr: SlowStderr
) -> None:
    """Memory stays bounded while stderr is stuck; nothing blocks; the loss is reported."""
    monkeypatch.setattr(logs, "QUEUED_LINES", 10)
    monkeypatch.setattr(sys, "stderr", stderr)  # again: pytest's capture took it back after setup
    configure_logging(Settings(_env_file=None, log_level="INFO"))  # type: ignore[call-arg]  # with the bound
    log = logging.getLogger("portfolio_backend.test")
    for n in range(15):
        log.info("line %d", n)  # stderr is stuck: 10 wait, one is being written, the rest are dropped

    stderr.released.set()
    [handler] = logging.getLogger().handlers
    deadline = asyncio.get_running_loop().time() + 10
    while not handler.lines.empty():  # type: ignore[attr-defined]  # the writer catches up
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    log.info("after")
    flush_logs()

    lines = stderr.lines()
    written = [line for line in lines if line["message"] != "after"]
    [after] = [line for line in lines if line["message"] == "after"]
    assert len(written) in (10, 11)
    assert after["log_lines_dropped"] == 15 - len(written)


def _recurse_a(n: int) -> None:
    _recurse_b(n + 1)


def _recurse_b(n: int) -> None:
    _recurse_a(n + 1)  # two frames that alternate: Python's "[Previous line repeated]" cannot fold them


def _configured(monkeypatch: pytest.MonkeyPatch, stderr: SlowStderr) -> logging.Logger:
    stderr.released.set()
    monkeypatch.setattr(sys, "stderr", stderr)  # again: pytest's capture took it back after setup
    configure_logging(Settings(_env_file=None, log_level="INFO"))  # type: ignore[call-arg]
    return logging.getLogger("portfolio_backend.test")


def test_a_traceback_in_the_log_is_bounded_however_deep_the_failure(
    monkeypatch: pytest.MonkeyPatch, stderr: SlowStderr
) -> None:
    """A RecursionError through alternating frames (a deeply nested body once did it) wrote 230 kB."""
    log = _configured(monkeypatch, stderr)
    try:
        _recurse_a(0)
    except RecursionError:
        log.exception("unhandled error on POST /api/chat")
    flush_logs()

    [text] = [written for _, written in stderr.writes]
    assert len(text.encode()) <= 4096
    [line] = stderr.lines()
    assert line["message"] == "unhandled error on POST /api/chat"
    assert "RecursionError: maximum recursion depth exceeded" in str(line["exception"])
    assert "_recurse_b" in str(line["exception"]), "the innermost frames, where it broke, are kept"


def test_the_same_failure_repeated_is_written_once_a_minute_with_a_count(
    monkeypatch: pytest.MonkeyPatch, stderr: SlowStderr
) -> None:
    """Fifty hostile requests in 3 s once wrote 11.5 MB: one traceback, then a count."""
    log = _configured(monkeypatch, stderr)

    def fail(message: str, error: Exception) -> logging.LogRecord:
        try:
            raise error
        except Exception:
            record = log.makeRecord(log.name, logging.ERROR, __file__, 0, message, (), sys.exc_info())
        return record

    for _ in range(50):
        log.handle(fail("unhandled error on POST /stream", ValueError("bad")))
    log.handle(fail("unhandled error on POST /stream", KeyError("other")))  # another failure: written
    later = fail("unhandled error on POST /stream", ValueError("bad"))
    later.created += 61  # a minute on
    log.handle(later)
    flush_logs()

    lines = stderr.lines()
    assert [(line["message"], str(line["exception"]).splitlines()[-1], line.get("repeats")) for line in lines] == [
        ("unhandled error on POST /stream", "ValueError: bad", None),
        ("unhandled error on POST /stream", "KeyError: 'other'", None),
        ("unhandled error on POST /stream", "ValueError: bad", 49),
    ]
