"""get_session_info: metadata of the conversation's own session, never another's."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from ..clock import now_ms
from .base import Tool, ToolContext, ToolError


class SessionInfoArgs(BaseModel):
    session_id: str | None = Field(
        None,
        max_length=64,
        description="Ignored: the tool always reports the current conversation.",
    )


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class SessionInfo(Tool[SessionInfoArgs]):
    name = "get_session_info"
    label = "Looked at this conversation"
    description = "Get information about the current chat session: when it started and how many messages it has."
    Args = SessionInfoArgs

    async def run(self, args: SessionInfoArgs, ctx: ToolContext) -> str:
        # Bound to the conversation's session: a model steered into naming another id reads nothing.
        if ctx.session_id is None:
            return "This conversation has no session: send a session_id with /stream to keep history."
        record = await ctx.stores.sessions.load(ctx.session_id, now_ms())
        if record is None:
            raise ToolError("The session has expired or was deleted")
        meta = record.meta
        return (
            f"Session started {_iso(meta.created_at)}, last activity {_iso(meta.last_activity)}, "
            f"{meta.message_count} messages stored (history keeps the last "
            f"{ctx.settings.session_max_messages}, expiring after "
            f"{ctx.settings.session_ttl_seconds // 3600} hours of inactivity)."
        )
