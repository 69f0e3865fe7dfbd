"""GET /admin/api/conversations and /admin/api/leads: what visitors asked, and what they left for the owner."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...clock import now_ms
from ...deps import SessionsDep, StoresDep
from ...errors import BadRequest, NotFound
from ..session_views import parse_session_id, public_message, public_session

router = APIRouter(prefix="/api", tags=["admin"])


@router.get("/conversations")
async def list_conversations(
    sessions: SessionsDep,
    cursor: Annotated[str, Query(max_length=64, description="`next_cursor` of the last page.")] = "",
    count: Annotated[int, Query(ge=1, le=100, description="Conversations per page.")] = 20,
) -> dict[str, Any]:
    """A page of live conversations (sessions) of every visitor, and the cursor of the next page."""
    try:
        next_cursor, metas = await sessions.list_all(cursor, count, now_ms())
    except ValueError as exc:
        raise BadRequest("cursor: not a cursor this server gave out; start with an empty one") from exc
    return {
        "conversations": [{**public_session(meta), "visitor": meta.visitor} for meta in metas],
        "next_cursor": next_cursor,
    }


@router.get("/conversations/{session_id}")
async def read_conversation(session_id: str, sessions: SessionsDep) -> dict[str, Any]:
    """One conversation as a read-only transcript: every message, tool calls and results included."""
    session_id = parse_session_id(session_id)
    record = await sessions.load(session_id, now_ms())
    if record is None:
        raise NotFound(f"Conversation not found or expired: {session_id}")
    return {
        **public_session(record.meta),
        "visitor": record.meta.visitor,
        "messages": [
            {**public_message(message), **({"tool_calls": message.tool_calls} if message.tool_calls else {})}
            for message in record.messages
        ],
    }


@router.get("/leads")
async def list_leads(
    stores: StoresDep,
    count: Annotated[int, Query(ge=1, le=1000, description="How many, newest first.")] = 100,
) -> dict[str, Any]:
    """Contacts visitors left and questions the assistant could not answer, newest first, with time and session."""
    leads = await stores.leads.newest(count)
    return {"leads": [asdict(lead) for lead in leads]}
