"""GET /admin/api/conversations and /admin/api/leads: what visitors asked, and what they left for the owner."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...clock import now_ms
from ...deps import StoreDep
from ...errors import BadRequest, NotFound
from ..stream import parse_session_id

router = APIRouter(prefix="/api", tags=["admin"])


@router.get("/conversations")
async def list_conversations(
    store: StoreDep,
    cursor: Annotated[str, Query(max_length=64, description="`next_cursor` of the last page.")] = "",
    count: Annotated[int, Query(ge=1, le=100, description="Conversations per page.")] = 20,
) -> dict[str, Any]:
    """A page of live conversations (sessions) of every visitor, and the cursor of the next page."""
    try:
        next_cursor, metas = await store.list_all_sessions(cursor, count, now_ms())
    except ValueError as exc:
        raise BadRequest("cursor: not a cursor this server gave out; start with an empty one") from exc
    return {
        "conversations": [{**meta.public(), "visitor": meta.visitor} for meta in metas],
        "next_cursor": next_cursor,
    }


@router.get("/conversations/{session_id}")
async def read_conversation(session_id: str, store: StoreDep) -> dict[str, Any]:
    """One conversation as a read-only transcript: every message, tool results included."""
    session_id = parse_session_id(session_id)
    record = await store.load_session(session_id, now_ms())
    if record is None:
        raise NotFound(f"Conversation not found or expired: {session_id}")
    return {
        **record.meta.public(),
        "visitor": record.meta.visitor,
        "messages": [
            {**message.public(), **({"tool_calls": message.tool_calls} if message.tool_calls else {})}
            for message in record.messages
        ],
    }


@router.get("/leads")
async def list_leads(
    store: StoreDep,
    count: Annotated[int, Query(ge=1, le=1000, description="How many, newest first.")] = 100,
) -> dict[str, Any]:
    """Contacts visitors left and questions the assistant could not answer, newest first."""
    leads = await store.list_leads(count)
    return {"leads": [asdict(lead) for lead in leads]}
