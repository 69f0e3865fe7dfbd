"""GET /admin/api/conversations and /admin/api/leads: what visitors asked, and what they left for the owner."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...clock import now_ms
from ...deps import SessionsDep, StoresDep
from ...errors import BadRequest, NotFound
from ...store import TranscriptMeta
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


@router.get("/transcripts")
async def list_transcripts(
    stores: StoresDep,
    count: Annotated[int, Query(ge=1, le=500, description="How many, latest activity first.")] = 100,
) -> dict[str, Any]:
    """The conversations kept for review (TRANSCRIPT_RETENTION_DAYS), their sessions long expired or not."""
    metas = await stores.transcripts.newest(count, now_ms())
    return {"transcripts": [asdict(meta) for meta in metas]}


@router.get("/conversations/{session_id}")
async def read_conversation(session_id: str, stores: StoresDep) -> dict[str, Any]:
    """One conversation as a read-only transcript: every message, tool calls and results included;
    the owner's copy (store/transcripts) once its session has expired, or when it holds more."""
    session_id = parse_session_id(session_id)
    now = now_ms()
    transcript = await stores.transcripts.load(session_id, now)
    record = await stores.sessions.load(session_id, now)
    if record is not None and (transcript is None or len(record.messages) >= len(transcript.messages)):
        meta, messages = public_session(record.meta), record.messages
        visitor = record.meta.visitor
    elif transcript is not None:
        meta, messages, visitor = _transcript_meta(transcript.meta), transcript.messages, transcript.meta.visitor
    else:
        raise NotFound(f"Conversation not found or expired: {session_id}")
    return {
        **meta,
        "visitor": visitor,
        "messages": [
            {**public_message(message), **({"tool_calls": message.tool_calls} if message.tool_calls else {})}
            for message in messages
        ],
    }


def _transcript_meta(meta: TranscriptMeta) -> dict[str, Any]:
    return {
        "session_id": meta.session_id,
        "created_at": meta.created_at,
        "last_activity": meta.last_activity,
        "message_count": meta.message_count,
        "kept_until": meta.expires_at,
    }


@router.get("/leads")
async def list_leads(
    stores: StoresDep,
    count: Annotated[int, Query(ge=1, le=1000, description="How many, newest first.")] = 100,
) -> dict[str, Any]:
    """Contacts visitors left and questions the assistant could not answer, newest first, with time and session."""
    leads = await stores.leads.newest(count)
    return {"leads": [asdict(lead) for lead in leads]}
