"""Chat sessions: create, read, delete, and list the caller's own."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from .. import privacy
from ..clock import now_ms
from ..deps import BoundsDep, LimiterDep, RemindersDep, SessionsDep, SettingsDep, StoresDep, VisitorDep
from ..errors import BadRequest, NotFound, Unauthorized
from ..settings import Settings
from ..store.privacy import Subject
from .admin.auth import NO_STORE, REFUSAL_HEADERS, authorize
from .privacy_views import download
from .session_views import parse_session_id, public_message, public_reminder, public_session

router = APIRouter(tags=["sessions"])


def _ttl_text(settings: Settings) -> str:
    hours, rest = divmod(settings.session_ttl_seconds, 3600)
    return f"{hours} hours" if not rest else f"{settings.session_ttl_seconds} seconds"


@router.post("/session", status_code=200)
async def create_session(
    visitor: VisitorDep,
    settings: SettingsDep,
    sessions: SessionsDep,
    limiter: LimiterDep,
    bounds: BoundsDep,
) -> dict[str, Any]:
    """Create a new chat session."""
    await limiter.admit([(bounds.sessions, visitor.key)])
    meta = await sessions.create(str(uuid.uuid4()), visitor.key, now_ms(), settings.session_ttl_seconds)
    return {
        "session_id": meta.session_id,
        "message": "Session created successfully",
        "ttl": _ttl_text(settings),
        "created_at": meta.created_at,
    }


@router.get("/session/{session_id}")
async def get_session(session_id: str, sessions: SessionsDep) -> dict[str, Any]:
    """Retrieve a session's chat history."""
    session_id = parse_session_id(session_id)
    record = await sessions.load(session_id, now_ms())
    if record is None:
        raise NotFound(f"Session not found or expired: {session_id}")
    return {
        **public_session(record.meta),
        "messages": [public_message(message) for message in record.messages],
    }


@router.get("/session/{session_id}/reminders")
async def list_reminders(session_id: str, sessions: SessionsDep, reminders: RemindersDep) -> dict[str, Any]:
    """Reminders created in a session, soonest due first."""
    session_id = parse_session_id(session_id)
    if await sessions.load(session_id, now_ms()) is None:
        raise NotFound(f"Session not found or expired: {session_id}")
    listed = await reminders.list_for(session_id)
    return {"session_id": session_id, "total": len(listed), "reminders": [public_reminder(r) for r in listed]}


@router.delete("/session/{session_id}")
async def delete_session(session_id: str, stores: StoresDep, settings: SettingsDep) -> dict[str, Any]:
    """Delete a chat session and everything kept about it: history, the owner's transcript,
    ratings, leads, usage rows, reminders, answer buffers."""
    session_id = parse_session_id(session_id)
    now = now_ms()
    if await stores.sessions.load(session_id, now) is None and await stores.transcripts.load(session_id, now) is None:
        raise NotFound(f"Session not found or expired: {session_id}")
    await privacy.erase(stores, Subject(session_ids=frozenset({session_id})), settings, now)
    return {"session_id": session_id, "message": "Session deleted successfully"}


@router.get("/session/{session_id}/export")
async def export_session(session_id: str, stores: StoresDep, settings: SettingsDep) -> Response:
    """Everything kept about a chat session, as a JSON file to download."""
    session_id = parse_session_id(session_id)
    now = now_ms()
    document = await privacy.export(stores, Subject(session_ids=frozenset({session_id})), settings, now)
    if not document["conversations"]:
        raise NotFound(f"Session not found or expired: {session_id}")
    return download(document, "conversation.json")


@router.get("/sessions")
async def list_sessions(
    request: Request,
    response: Response,
    visitor: VisitorDep,
    settings: SettingsDep,
    sessions: SessionsDep,
    all: Annotated[bool, Query(description="Every visitor's sessions (needs ADMIN_TOKEN).")] = False,
    cursor: Annotated[str, Query(max_length=64, description="Page cursor from `next_cursor`.")] = "",
    count: Annotated[int, Query(ge=1, le=500)] = 100,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> dict[str, Any]:
    """List your own active sessions; with ?all=true and the admin token, every session."""
    if all:
        if settings.admin_token is None:
            raise Unauthorized("Admin views are disabled: set ADMIN_TOKEN to enable them.", headers=REFUSAL_HEADERS)
        await authorize(request, authorization.removeprefix("Bearer ").strip() if authorization else None)
        response.headers.update(NO_STORE)  # every visitor's sessions and addresses
        try:
            next_cursor, metas = await sessions.list_all(cursor, count, now_ms())
        except ValueError as exc:
            raise BadRequest("cursor: not a cursor this server gave out; start with an empty one") from exc
        return {
            "total_sessions": len(metas),
            "sessions": [{**public_session(meta), "visitor": meta.visitor} for meta in metas],
            "next_cursor": next_cursor,
        }
    metas = await sessions.list_for(visitor.key, now_ms())
    return {
        "ip": visitor.ip,
        "total_sessions": len(metas),
        "sessions": [public_session(meta) for meta in metas],
    }
