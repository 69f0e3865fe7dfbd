"""Wire formats: how each HTTP protocol writes a turn's events (chat/events.py) as bytes.

One module per protocol, each with an `EventEncoder`: `seed_events.py` for POST /stream (the
`data: {"type":"chunk",...}` lines existing clients parse). An encoder is built per response,
so a protocol that needs to remember what it has written (an open text part, say) may.
"""

from __future__ import annotations

from typing import Protocol

from ..chat.events import TurnEvent


class EventEncoder(Protocol):
    """Serialises one response's events; each call returns the bytes to send, possibly empty.

    encode(): one event, exactly once; called for every text delta, so it must stay cheap.
    keepalive(): what to send when nothing has been sent for a while, so proxies keep the
    connection open; clients must be able to ignore it.
    """

    def encode(self, event: TurnEvent) -> bytes: ...

    def keepalive(self) -> bytes: ...


__all__ = ["EventEncoder"]
