"""Delivery of due reminders: POSTed as JSON to REMINDER_WEBHOOK_URL, once each.

Any number of processes may run a dispatcher against one store. Each batch is claimed atomically
(`ReminderStore.claim_due`), so a reminder goes to one dispatcher only; the claim is a lease, so
a reminder whose dispatcher died mid-delivery is delivered by another once the lease runs out.
That one case (a POST that succeeded just before its process died) can repeat a delivery, so
every POST carries the reminder id as `Idempotency-Key` for receivers that deduplicate.

The payload has no session id: session ids open a conversation's history, and webhook receivers
such as public ntfy topics are not secret.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx2

from ..clock import now_ms
from ..store import Reminder, ReminderStore, StoreError
from ..tools import ToolError
from ..tools.notification import notification
from ..tools.outbound import post_json

log = logging.getLogger(__name__)

# Reminders claimed per round; delivered concurrently.
BATCH_SIZE = 20
# Each POST may take this long.
DELIVERY_TIMEOUT_SECONDS = 10.0
# A claim outlives a round (all POSTs of a batch run at once, so about one timeout) many times over.
LEASE_MS = 120_000
# Attempts before a reminder is marked failed, and the wait before each retry.
MAX_ATTEMPTS = 5
RETRY_DELAYS_MS = (60_000, 300_000, 900_000, 3_600_000)


def reminder_payload(reminder: Reminder) -> dict[str, Any]:
    """The JSON POSTed for a due reminder; `message` is a ready sentence, `text` the same escaped for Slack."""
    message = f"Reminder: {reminder.title}"
    if reminder.description:
        message += f" — {reminder.description}"
    message += f" (due {reminder.due_iso})"
    fields = {
        "type": "reminder",
        "reminder_id": reminder.reminder_id,
        "title": reminder.title,
        "description": reminder.description,
        "due_at": reminder.due_iso,
    }
    return notification(fields, message)


async def dispatch_due(store: ReminderStore, http: httpx2.AsyncClient, url: str, now: int) -> int:
    """Claim the reminders due at `now` (ms) and POST each to `url`; returns how many were delivered.

    A failed POST is retried later (RETRY_DELAYS_MS), up to MAX_ATTEMPTS; then the reminder is
    marked failed. Raises StoreError only when the claim itself fails.
    """
    reminders = await store.claim_due(now, LEASE_MS, BATCH_SIZE)
    if not reminders:
        return 0
    delivered = await asyncio.gather(*(_deliver(store, http, url, reminder, now) for reminder in reminders))
    return sum(delivered)


async def _deliver(store: ReminderStore, http: httpx2.AsyncClient, url: str, reminder: Reminder, now: int) -> int:
    try:
        await post_json(
            http,
            url,
            reminder_payload(reminder),
            service="The reminder webhook",
            timeout=DELIVERY_TIMEOUT_SECONDS,
            headers={"Idempotency-Key": reminder.reminder_id},
        )
    except ToolError as exc:
        attempt = reminder.attempts + 1
        log.warning("reminder %s: attempt %d failed: %s", reminder.reminder_id, attempt, exc)
        try:
            if attempt >= MAX_ATTEMPTS:
                await store.complete(reminder, now, delivered=False)
            else:
                delay = RETRY_DELAYS_MS[min(attempt, len(RETRY_DELAYS_MS)) - 1]
                await store.reschedule(reminder, now + delay)
        except StoreError as store_exc:  # the lease runs out and the reminder is tried again
            log.warning("reminder %s: could not record the failure: %s", reminder.reminder_id, store_exc)
        return 0
    try:
        await store.complete(reminder, now, delivered=True)
    except StoreError as exc:  # delivered; only a dead lease could bring a repeat
        log.warning("reminder %s: delivered but not recorded: %s", reminder.reminder_id, exc)
    return 1


class ReminderDispatcher:
    """Runs `dispatch_due` every `interval` seconds until cancelled: one task per process.

    Start it in the app lifespan when REMINDER_WEBHOOK_URL is set, e.g.
    `task = asyncio.create_task(ReminderDispatcher(stores.reminders, http, url).run())`, and cancel it on
    shutdown. Store outages are logged and retried at the next round.
    """

    def __init__(self, store: ReminderStore, http: httpx2.AsyncClient, url: str, *, interval: float = 15.0) -> None:
        self.store = store
        self.http = http
        self.url = url
        self.interval = interval

    async def dispatch_once(self) -> int:
        return await dispatch_due(self.store, self.http, self.url, now_ms())

    async def run(self) -> None:
        while True:
            try:
                delivered = await self.dispatch_once()
            except StoreError as exc:
                log.warning("reminder dispatch skipped: %s", exc)
                delivered = 0
            except Exception:  # a bug must not end deliveries for the life of the process
                log.exception("reminder dispatch failed")
                delivered = 0
            if delivered < BATCH_SIZE:  # a full batch means more may be due: go again at once
                await asyncio.sleep(self.interval)
