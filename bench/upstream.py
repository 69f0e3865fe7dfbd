"""The benchmark's upstream: the tests' ScriptedUpstream, plus a control route the benchmark drives.

`python -m bench.upstream --port P` serves /v1/chat/completions exactly as
tests/fixtures/upstream.py does, and adds /control, which is not part of any OpenAI API:

- POST /control {"chunks": 50, "delay": 0.01, "first_delay": 0}: what every following stream sends;
- GET /control: {"active": streams open now, "served": streams started, "last_request": body}.

One upstream process serves every scenario of a run (paced, zero-delay, stalled), so the service
under test keeps a single OPENAI_BASE_URL and its connection pool stays warm between phases.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import uvicorn

from tests.fixtures.upstream import Reply, ScriptedUpstream


class BenchUpstream:
    def __init__(self) -> None:
        self.scripted = ScriptedUpstream()
        self.active = 0
        self.served = 0
        self.last_request: dict[str, Any] | None = None
        self.configure(chunks=50, delay=0.01, first_delay=0.0)

    def configure(self, *, chunks: int, delay: float, first_delay: float) -> None:
        self.scripted.default = Reply(chunks=[f"tok{i} " for i in range(chunks)], delay=delay, first_delay=first_delay)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/control":
            await self._control(scope, receive, send)
            return
        self.active += 1
        self.served += 1
        try:
            await self.scripted(scope, receive, send)
        finally:
            self.active -= 1
            if self.scripted.requests:  # keep one body for the direct runs to replay, not all of them
                self.last_request = self.scripted.requests[-1]
                self.scripted.requests.clear()

    async def _control(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "POST":
            options = json.loads(body)
            self.configure(
                chunks=int(options.get("chunks", 50)),
                delay=float(options.get("delay", 0.0)),
                first_delay=float(options.get("first_delay", 0.0)),
            )
        raw = json.dumps({"active": self.active, "served": self.served, "last_request": self.last_request}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": raw})


def main() -> None:
    parser = argparse.ArgumentParser(description="The benchmark's scripted OpenAI-compatible upstream.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # loop="auto" and http="auto": uvloop and httptools when installed, as the service gets them
    config = uvicorn.Config(
        BenchUpstream(),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="off",
        access_log=False,
        backlog=4096,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
