"""The floor of the service's parts: the same libraries doing a turn's minimum, none of our code.

    uv run python -m bench.run --parts-only --no-sqlite --phases relay,cpu

A pure ASGI app under uvicorn (uvloop, httptools, as `main.py` runs), that for POST /stream reads
the JSON body, charges one Redis counter with one script (redis-py, the service's pool), asks the
upstream through the openai SDK's raw-request API on aiohttp (as the service does) and relays each
text delta as one `data:` event. No validation, sessions, quota headers, metrics, logs, tools or
disconnect handling. Whatever the service adds is measured against this: a target this app misses
on a machine cannot be met there by any code built on these parts. Not part of the service.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx2
import openai
import redis.asyncio as aioredis
import uvicorn
from openai import AsyncOpenAI, DefaultAioHttpClient

Scope = dict[str, Any]

# INCR with a window, the smallest honest quota: one script, one round trip
_CHARGE = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n"
_SSE = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


class Parts:
    def __init__(self) -> None:
        pool = aioredis.BlockingConnectionPool.from_url(os.environ["REDIS_URL"], max_connections=200, timeout=10)
        self.redis = aioredis.Redis.from_pool(pool)
        self.charge = self.redis.register_script(_CHARGE)
        timeout = openai.Timeout(60.0, connect=5.0)
        self.llm = AsyncOpenAI(
            api_key=os.environ["OPENAI_API_KEY"],
            base_url=os.environ["OPENAI_BASE_URL"],
            max_retries=0,
            timeout=timeout,
            http_client=DefaultAioHttpClient(timeout=timeout),
        )
        self.model = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")

    async def close(self) -> None:
        await self.llm.close()
        await self.redis.aclose()


parts: Parts | None = None


async def app(scope: Scope, receive: Any, send: Any) -> None:
    global parts
    if scope["type"] == "lifespan":
        await receive()
        parts = Parts()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await parts.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    assert parts is not None
    if scope["path"] != "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"status":"ok"}'})
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    prompt = json.loads(body)["prompt"]
    await parts.charge(keys=[f"quota:{scope['client'][0]}"], args=[86_400_000])
    await send({"type": "http.response.start", "status": 200, "headers": _SSE})
    request = {"model": parts.model, "messages": [{"role": "user", "content": prompt}], "stream": True}
    response = await parts.llm.post(
        "/chat/completions", cast_to=httpx2.Response, body=request, stream=True, stream_cls=None
    )
    pending = b""
    async for block in response.aiter_bytes():
        lines = (pending + block).split(b"\n")
        pending = lines.pop()
        for line in lines:
            data = line[5:].strip() if line.startswith(b"data:") else b""
            if not data or data == b"[DONE]":
                continue
            choices = json.loads(data).get("choices")
            content = choices[0].get("delta", {}).get("content") if choices else None
            if content:
                event = json.dumps({"type": "chunk", "content": content}, separators=(",", ":"))
                await send({"type": "http.response.body", "body": f"data: {event}\n\n".encode(), "more_body": True})
    await response.aclose()
    await send({"type": "http.response.body", "body": b'data: {"type":"end"}\n\n', "more_body": False})


if __name__ == "__main__":
    workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
    uvicorn.run(
        "bench.floor:app" if workers > 1 else app,
        workers=workers,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ["PORT"]),
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
