"""get_current_time: the date and time in an IANA time zone (zoneinfo, with tzdata bundled)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from .base import Tool, ToolContext, ToolError

# A zone's first use reads its file (tzdata): off the event loop, once. Only real zones get here.
_zones: dict[str, ZoneInfo] = {}


async def _zone(name: str) -> ZoneInfo:
    zone = _zones.get(name)
    if zone is None:
        zone = _zones[name] = await asyncio.to_thread(ZoneInfo, name)
    return zone


class CurrentTimeArgs(BaseModel):
    timezone: str = Field("UTC", max_length=64, description="IANA time zone, e.g. Europe/Paris or UTC.")


class CurrentTime(Tool[CurrentTimeArgs]):
    name = "get_current_time"
    label = "Checked the time"
    description = "Get the current date and time, optionally in an IANA time zone such as Europe/Paris."
    Args = CurrentTimeArgs

    async def run(self, args: CurrentTimeArgs, ctx: ToolContext) -> str:
        try:
            zone = await _zone(args.timezone.strip() or "UTC")
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ToolError(f"Unknown time zone {args.timezone!r}; use an IANA name such as Europe/Paris") from exc
        now = datetime.now(zone)
        return f"Current time in {zone.key}: {now.strftime('%A %d %B %Y, %H:%M:%S')} (UTC{now.strftime('%z')})"
