"""The SSE response of POST /stream: a plain ASGI response, no body-wrapping middleware.

It relays a turn's typed events, each serialised once by the protocol's encoder (wire/), and has
three jobs besides: (1) a visitor who disconnects cancels the turn at once, also while it waits for
the first token, so the upstream call is closed and nobody pays for tokens nobody reads; (2) when
nothing has been sent for KEEPALIVE seconds, the encoder's keep-alive keeps proxies from cutting
the stream (nginx and load balancers end streams idle for 60-90 s); (3) when the server shuts down
and the grace period is over, the stream ends with an `error` event instead of silence.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..chat import Error, TurnEvent
from ..wire import EventEncoder

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
    "Connection": "keep-alive",
}

SHUTDOWN_MESSAGE = "The server is restarting. Please send your message again."


class EventStreamResponse(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        events: AsyncIterator[TurnEvent],
        *,
        encoder: EventEncoder,
        headers: dict[str, str],
        keepalive_seconds: float,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.status_code = 200
        # FastAPI reads and sets this (a route's BackgroundTasks); /stream has none and __call__ runs none
        self.background: BackgroundTask | None = None
        self.init_headers({**SSE_HEADERS, **headers})
        self.events = events
        self.encoder = encoder
        self.keepalive_seconds = keepalive_seconds
        self.on_close = on_close
        self._last_send = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        relay = asyncio.current_task()
        assert relay is not None
        disconnected = False
        # The relay and the keep-alive task both write to the socket. A send can stall (a slow client:
        # the server waits for its transport to drain), so they take turns through this lock, and
        # nothing follows the message that ends the body.
        turn = asyncio.Lock()
        finished = False

        async def send_body(line: bytes, *, last: bool = False) -> None:
            nonlocal finished
            async with turn:
                if finished:
                    return
                finished = last
                await send({"type": "http.response.body", "body": line, "more_body": not last})
                self._last_send = loop.time()

        async def watch_disconnect() -> None:
            nonlocal disconnected
            while (await receive())["type"] != "http.disconnect":
                pass
            disconnected = True
            relay.cancel()

        async def keep_alive() -> None:
            while True:
                await asyncio.sleep(self.keepalive_seconds - (loop.time() - self._last_send))
                # a send under way (perhaps stalled) is not silence: it resets the clock when it is done
                if loop.time() - self._last_send >= self.keepalive_seconds and not turn.locked():
                    await send_body(self.encoder.keepalive())

        watchers = [
            asyncio.create_task(watch_disconnect()),
            asyncio.create_task(keep_alive()),
        ]
        try:
            async with turn:
                await send(
                    {
                        "type": "http.response.start",
                        "status": self.status_code,
                        "headers": self.raw_headers,
                    }
                )
                self._last_send = loop.time()
            encode = self.encoder.encode
            async for event in self.events:
                line = encode(event)
                if line:  # an event this format writes nothing for is no send, and no sign of life
                    await send_body(line)
            await send_body(b"", last=True)
        except asyncio.CancelledError:
            if not disconnected:
                # shutdown after the grace period: say so, then let the cancellation through
                with contextlib.suppress(Exception):
                    await send_body(self.encoder.encode(Error(SHUTDOWN_MESSAGE)), last=True)
                raise
            relay.uncancel()
        except OSError:
            pass  # the socket went away between two sends: same as a disconnect
        finally:
            for watcher in watchers:
                watcher.cancel()
            await _close(self.events)
            if self.on_close is not None:
                await asyncio.shield(self.on_close())


async def _close(iterator: Any) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
