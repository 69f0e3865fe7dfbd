"""Hostile JSON on every route that takes a body: deep nesting, huge numbers, lone surrogates,
duplicate keys, NaN and wrong types at every level of a valid body. Always a JSON 4xx (or the
answer a valid body gets), never a 500; a few kB of log per request at most; healthy after.

One real server for every route (a socket, as an attacker reaches it), the service's own JSON log
writer on a captured stderr, and a bounded number of generated bodies per route.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio_backend.json_depth import JSON_MAX_DEPTH
from portfolio_backend.logs import configure_logging, flush_logs
from portfolio_backend.settings import Settings

from ..fixtures.live_server import LiveServer

ADMIN_TOKEN = "owner-token-0123456789"
GENEROUS = {
    "rate_limit": "100000/day",
    "session_create_limit": "100000/day",
    "tools_test_limit": "100000/day",
    "admin_token": ADMIN_TOKEN,
    "log_level": "INFO",
}
# "a few kB": a traceback, however deep the failure, and the access line
LOG_BYTES_PER_REQUEST = 4096
EXAMPLES_PER_ROUTE = 25

# A valid body per route, so that a hostile value can be put at every level of it; routes not
# listed take no body (they must ignore one).
VALID_BODIES: dict[str, Any] = {
    "POST /stream": {"prompt": "What is the current time?", "session_id": None},
    "POST /api/chat": {
        "id": "chat-hostile-1",
        "messages": [{"id": "m1", "role": "user", "parts": [{"type": "text", "text": "Hello"}]}],
        "trigger": "submit-message",
    },
    "POST /tools/test": {"tool_name": "calculate", "arguments": {"expression": "2 + 2"}},
    "POST /feedback": {"turn_id": "AAAAAAAAAAAAAAAAAAAAAA", "rating": "down", "comment": "Wrong rates."},
    "POST /admin/api/answers": {"question": "What are your rates?", "answer": "From 90 EUR an hour."},
    "PUT /admin/api/answers/0123456789abcdef": {"question": "Rates?", "answer": "From 90 EUR an hour."},
}

LEAVES = st.one_of(
    st.text(max_size=20).map(json.dumps),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(
        [
            '"\\ud800"',  # an escaped lone surrogate
            '"a\ud800b"',  # a raw one (sent as the bytes ED A0 80)
            '"\\udfff\\ud800"',
            "NaN",
            "Infinity",
            "-Infinity",
            "1e999999",
            "-1e-999999",
            "9" * 5000,  # past Python's 4300-digit limit for int()
            "-" + "9" * 4299,
            "1." + "0" * 5000 + "1",
            "-0",
            "true",
            "false",
            "null",
            '""',
            "[]",
            "{}",
        ]
    ),
)
KEYS = st.one_of(st.sampled_from(["prompt", "session_id", "id", "messages", "parts", "type", "text", "x"]), st.text())


def _array(items: list[str]) -> str:
    return "[" + ",".join(items) + "]"


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in pairs) + "}"


# small hostile values: well within the depth bound
SHALLOW = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3).map(_array) | st.lists(st.tuples(KEYS, inner), max_size=3).map(_object),
    max_leaves=8,
)
# past the depth bound: arrays or objects, up to what fits in MAX_BODY_BYTES (64 kB; a larger body
# is refused before it is read, tests/test_middleware.py)
DEEP = st.builds(
    lambda depth, kind, leaf: ("[" * depth + leaf + "]" * depth) if kind else ('{"a":' * depth + leaf + "}" * depth),
    st.integers(JSON_MAX_DEPTH + 1, 10_000),
    st.booleans(),
    LEAVES,
)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*at, key))
        yield (*at, "unknown-field")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*at, index))


def _dump(value: Any, at: tuple[Any, ...], raw: str, duplicate: bool) -> str:
    """`value` as JSON text with the node at `at` replaced by the raw text `raw`; with `duplicate`,
    an object's key is written twice, the hostile value first and the valid one after."""
    if not at:
        return raw
    head, rest = at[0], at[1:]
    if isinstance(value, list):
        return _array(
            [_dump(item, rest, raw, duplicate) if i == head else json.dumps(item) for i, item in enumerate(value)]
        )
    pairs = []
    for key, item in value.items():
        if key == head:
            pairs.append((key, _dump(item, rest, raw, duplicate)))
            if duplicate and not rest:
                pairs.append((key, json.dumps(item)))
        else:
            pairs.append((key, json.dumps(item)))
    if head not in value:
        pairs.append((head, raw))
    return _object(pairs)


@dataclass(frozen=True)
class HostileBody:
    body: bytes
    deep: bool  # nested past the bound

    def __repr__(self) -> str:  # hypothesis shows failing examples: not 60 kB of brackets
        return f"HostileBody({self.body[:100]!r}... {len(self.body)} bytes, deep={self.deep})"


def hostile_bodies(valid: Any) -> st.SearchStrategy[HostileBody]:
    """A hostile value at any level of the valid body."""
    return st.builds(
        lambda at, value, duplicate: HostileBody(
            _dump(valid, at, value[0], duplicate).encode("utf-8", "surrogatepass"), value[1]
        ),
        st.sampled_from(list(_paths(valid))),
        st.one_of(SHALLOW.map(lambda raw: (raw, False)), DEEP.map(lambda raw: (raw, True))),
        st.booleans(),
    )


class CapturedStderr:
    """Where the service's log writer thread writes its JSON lines."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def lines(self) -> list[str]:
        return "".join(self.parts).splitlines()


@pytest.fixture
def service_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Settings], CapturedStderr]]:
    """`service_log(settings)`: the service's own log configuration (JSON lines, written by a
    thread) on a captured stderr; the root logger as it was afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    def configure(settings: Settings) -> CapturedStderr:
        captured = CapturedStderr()
        with monkeypatch.context() as patch:  # pytest swaps sys.stderr between phases: the writer keeps this one
            patch.setattr(sys, "stderr", captured)
            configure_logging(settings)
        return captured

    yield configure
    flush_logs()
    root.handlers[:], root.level = handlers, level
    logging.getLogger("uvicorn.access").disabled = False


def _body_routes(schema: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """Every route a body can be sent to: (method, path, whether it reads one)."""
    return sorted(
        (method.upper(), re.sub(r"\{[^}]+\}", "0123456789abcdef", path), "requestBody" in operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in {"post", "put", "patch", "delete"}
    )


def _is_error_shape(response: httpx2.Response) -> bool:
    """{"error": <code>, "detail": <message>} (errors.py), maybe with more fields (a 429's limit...)."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("detail"), str)


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
def test_hostile_json_on_every_body_route_is_a_4xx_with_a_bounded_log_and_the_service_stays_healthy(
    make_settings: Callable[..., Settings],
    live_server_for: Callable[[Settings], LiveServer],
    service_log: Callable[[Settings], CapturedStderr],
) -> None:
    failures: list[str] = []
    service_settings = make_settings(**GENEROUS)
    server = live_server_for(service_settings)
    log = service_log(service_settings)  # after uvicorn's Config, which sets up its own
    with server, httpx2.Client(base_url=server.url, timeout=30) as client:
        routes = _body_routes(client.get("/openapi.json").json())
        assert {"POST /stream", "POST /api/chat", "POST /tools/test", "POST /session"} <= {
            f"{method} {path}" for method, path, _ in routes
        }
        headers = {"content-type": "application/json", "authorization": f"Bearer {ADMIN_TOKEN}"}
        sent = 0

        def check(method: str, path: str, body: bytes, deep: bool) -> None:
            """Any answer but a 5xx; the JSON error shape on a 4xx; 413 or 422 for a body nested too deep."""
            nonlocal sent
            sent += 1
            shown = f"{method} {path} {body[:120]!r}... ({len(body)} bytes)"
            try:
                # our own request ids, to count the log per request: hypothesis seeds `random`, which
                # the service's own ids come from
                response = client.request(
                    method, path, content=body, headers={**headers, "x-request-id": f"hostile-{sent}"}
                )
            except httpx2.TransportError as exc:  # the server dropped the connection (after a 500, uvicorn does)
                failures.append(f"{shown}: {exc!r}")
                return
            shown += f" -> {response.status_code}"
            if response.status_code >= 500 or (deep and response.status_code not in (413, 422)):
                failures.append(f"{shown}: {response.text[:200]}")
            elif response.status_code >= 400 and not _is_error_shape(response):
                failures.append(f"{shown}: not the JSON error shape: {response.text[:200]}")
            elif "internal_error" in response.text or "Traceback" in response.text:
                failures.append(f"{shown}: {response.text[:200]}")

        for method, path, reads_body in routes:
            valid = VALID_BODIES.get(f"{method} {path}", {})
            # the issue's reproduction first: 400 levels (0.8 kB) once answered 500 with 230 kB of log
            innermost = list(_paths(valid))[-1]
            check(method, path, _dump(valid, innermost, "[" * 400 + "]" * 400, False).encode(), reads_body)

            @settings(
                max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None, suppress_health_check=list(HealthCheck)
            )
            @given(case=hostile_bodies(valid))
            def hostile(case: HostileBody) -> None:
                check(method, path, case.body, case.deep and reads_body)  # noqa: B023  # run before the loop moves on

            hostile()

        assert client.get("/health").json()["status"] == "healthy"
        turn = client.post("/stream", json={"prompt": "What is the current time?"})
        assert turn.status_code == 200
        events = [json.loads(line[6:]) for line in turn.text.splitlines() if line.startswith("data: ")]
        assert events[-1]["type"] == "end"

    assert not failures, "\n".join(failures)
    flush_logs()
    by_request: dict[str, int] = defaultdict(int)
    for line in log.lines():
        by_request[json.loads(line).get("request_id", "-")] += len(line.encode()) + 1
    unattributed = by_request.pop("-", 0)
    assert len(by_request) >= sent
    assert max(by_request.values()) <= LOG_BYTES_PER_REQUEST
    # start-up lines, and what a failure logs once it has left the request (bounded, not repeated)
    assert unattributed <= 4 * LOG_BYTES_PER_REQUEST
