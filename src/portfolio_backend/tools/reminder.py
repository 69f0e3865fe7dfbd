"""create_reminder: a reminder kept with the conversation's session, delivered when due.

The time must carry its UTC offset: "09:00" means nothing without one, and guessing the server's
zone would deliver at the wrong hour. Delivery is `workers/reminders.py`, run by the app.
"""

from __future__ import annotations

import datetime as dt
import logging
from uuid import uuid4

from pydantic import BaseModel, Field, field_validator

from ..store import Reminder, StoreError
from .base import Tool, ToolContext, ToolError

log = logging.getLogger(__name__)

# Reminders one session may hold; a steered model cannot fill the store or the owner's webhook.
MAX_REMINDERS_PER_SESSION = 20
# How far ahead a reminder may be set.
MAX_DAYS_AHEAD = 366

_EXAMPLE = "2030-07-01T09:30:00+02:00"


def parse_due(text: str) -> dt.datetime:
    """An ISO 8601 date and time with its UTC offset; ValueError in plain words otherwise."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"datetime must be an ISO 8601 date and time such as {_EXAMPLE}") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(
            f"datetime needs a time zone: add the UTC offset, e.g. {_EXAMPLE} or ...Z for UTC "
            "(ask the visitor for their time zone if it is not known)"
        )
    return when


class ReminderArgs(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="Short title of the reminder.")
    datetime: str = Field(
        min_length=10,
        max_length=64,
        description=f"When to remind, ISO 8601 with a UTC offset, e.g. {_EXAMPLE} or 2030-07-01T07:30:00Z.",
    )
    description: str | None = Field(None, max_length=1000, description="Optional details.")

    @field_validator("datetime")
    @classmethod
    def _timezone_aware(cls, value: str) -> str:
        parse_due(value)
        return value.strip()


def _in_words(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} minute{'s' if minutes > 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours > 1 else ''}"
    return f"{hours // 24} days"


class CreateReminder(Tool[ReminderArgs]):
    name = "create_reminder"
    label = "Created a reminder"
    description = (
        "Create a reminder for this conversation at a future date and time. The datetime must be ISO 8601 "
        "with the visitor's UTC offset; ask for their time zone if unknown."
    )
    Args = ReminderArgs

    async def run(self, args: ReminderArgs, ctx: ToolContext) -> str:
        if ctx.session_id is None:
            raise ToolError("Reminders belong to a session, and this conversation has none")
        if not ctx.visitor_wrote(f"{args.title} {args.description or ''}"):
            # a reminder is the visitor's own request, never one the model read in a page or passage
            raise ToolError("The visitor has not asked for this reminder; set one only when they ask")
        due = parse_due(args.datetime)
        now = dt.datetime.now(dt.UTC)
        if due <= now:
            raise ToolError(
                f"{due.isoformat()} is in the past (it is now {now:%Y-%m-%d %H:%M} UTC); ask for a future time"
            )
        if due - now > dt.timedelta(days=MAX_DAYS_AHEAD):
            raise ToolError(f"Reminders can be set at most {MAX_DAYS_AHEAD} days ahead")
        title = " ".join(args.title.split())
        reminder = Reminder(
            reminder_id=uuid4().hex,
            session_id=ctx.session_id,
            title=title,
            description=(args.description or "").strip(),
            due_at=int(due.timestamp() * 1000),
            due_iso=due.isoformat(),
            created_at=int(now.timestamp() * 1000),
        )
        try:
            stored = await ctx.stores.reminders.add(reminder, MAX_REMINDERS_PER_SESSION)
        except StoreError as exc:
            log.warning("reminder not stored: %s", exc)
            raise ToolError("Reminders cannot be saved right now; please try again later") from exc
        if not stored:
            raise ToolError(f"This conversation already has {MAX_REMINDERS_PER_SESSION} reminders, the most allowed")
        result = f"Reminder set: {title!r} on {due.isoformat(timespec='minutes')} (in {_in_words(due - now)})."
        if not ctx.settings.reminder_webhook_url:
            result += (
                " Note: this site has no reminder delivery configured, so it is saved but nobody will be notified."
            )
        return result
