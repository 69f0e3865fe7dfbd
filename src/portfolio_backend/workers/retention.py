"""The retention worker: deletes, on every store, what has been kept as long as the owner said.

Transcripts go TRANSCRIPT_RETENTION_DAYS after their last message, and visitors' ratings with them
(a rating is kept as long as the conversation it rates could be: that many days after it was
given); leads and unknown questions LEADS_RETENTION_DAYS after they came in. Sessions, usage rows,
counters and resume buffers expire on their own, as before. One task per process: every replica
runs it, and a round that finds nothing deleted costs a few reads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ..clock import now_ms
from ..settings import Settings
from ..store import StoreError, Stores
from ..store.privacy import Expired
from ..store.transcripts import DAY_MS

log = logging.getLogger(__name__)


class RetentionWorker:
    """Runs `expire_once` every RETENTION_SWEEP_SECONDS until cancelled. `clock` (ms since the
    epoch) is the wall clock unless a test passes its own."""

    def __init__(self, stores: Stores, settings: Settings, *, clock: Callable[[], int] = now_ms) -> None:
        self.stores = stores
        self.settings = settings
        self.clock = clock

    async def expire_once(self) -> Expired:
        """Delete what expired by now; what was deleted."""
        now, settings = self.clock(), self.settings
        transcripts = await self.stores.transcripts.expire(now)
        others = await self.stores.privacy.expire(
            feedback_before=now - settings.transcript_retention_days * DAY_MS,
            leads_before=now - settings.leads_retention_days * DAY_MS,
        )
        return Expired(transcripts=transcripts, feedback=others.feedback, leads=others.leads)

    async def run(self) -> None:
        while True:
            try:
                expired = await self.expire_once()
                if expired != Expired():
                    log.info("retention: deleted %s", expired)
            except StoreError as exc:
                log.warning("retention skipped: %s", exc)
            except Exception:  # a bug must not end retention for the life of the process
                log.exception("retention failed")
            await asyncio.sleep(self.settings.retention_sweep_seconds)
