"""/admin/api/privacy/...: the retention periods, and a data-subject request (find, download,
erase everything about a session id, a visitor or an email address)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ...clock import now_ms
from ...deps import SettingsDep, StoresDep
from ...errors import BadRequest, NotFound
from ...privacy import Named, erase, export, subject_of, visitor_of
from ...store.privacy import Subject
from ..privacy_views import download
from ..session_views import parse_session_id

router = APIRouter(prefix="/api/privacy", tags=["admin"])

SessionQuery = Annotated[str | None, Query(max_length=64, description="A session id (the widget's).")]
VisitorQuery = Annotated[
    str | None, Query(max_length=100, description="A visitor: their pseudonym (v-...), or an IP address.")
]
EmailQuery = Annotated[str | None, Query(max_length=320, description="An email address a visitor left.")]


@router.get("/retention")
async def retention(settings: SettingsDep) -> dict[str, Any]:
    """How long each kind of visitor data is kept."""
    return {
        "session_hours": settings.session_ttl_seconds / 3600,
        "transcript_days": settings.transcript_retention_days,
        "feedback_days": settings.transcript_retention_days,
        "leads_days": settings.leads_retention_days,
        "usage_days": settings.usage_retention_days,
        "resume_buffer_seconds": settings.resume_buffer_ttl_seconds,
    }


async def _subject(
    request: Request,
    stores: StoresDep,
    settings: SettingsDep,
    session_id: SessionQuery = None,
    visitor: VisitorQuery = None,
    email: EmailQuery = None,
) -> Subject:
    """Whom the request is about, from exactly one of its query parameters."""
    named_values = ((Named.SESSION, session_id), (Named.VISITOR, visitor), (Named.EMAIL, email))
    given = [(named, value) for named, value in named_values if value]
    if len(given) != 1:
        raise BadRequest("name exactly one of session_id, visitor, email")
    named, value = given[0]
    if named is Named.SESSION:
        try:
            value = parse_session_id(value)
        except NotFound as exc:  # a malformed id is the owner's typo here, not a lookup
            raise BadRequest("session_id: not a session id (a uuid)") from exc
    elif named is Named.VISITOR:
        await request.state.pseudonyms.ready()
        value = visitor_of(value, settings, request.state.pseudonyms)
    elif "@" not in value:
        raise BadRequest("email: not an email address")
    return await subject_of(stores, named, value, now_ms())


SubjectDep = Annotated[Subject, Depends(_subject)]


@router.get("/subject")
async def find_subject(subject: SubjectDep, stores: StoresDep, settings: SettingsDep) -> dict[str, Any]:
    """Everything kept about one session, visitor or email address, as one JSON document."""
    return await export(stores, subject, settings, now_ms())


@router.get("/subject/export")
async def export_subject(subject: SubjectDep, stores: StoresDep, settings: SettingsDep) -> Response:
    """The same document as a file to download (and send to the person who asked)."""
    return download(await export(stores, subject, settings, now_ms()), "data-subject-export.json")


@router.delete("/subject")
async def erase_subject(subject: SubjectDep, stores: StoresDep, settings: SettingsDep) -> dict[str, Any]:
    """Erase everything kept about one session, visitor or email address, on every store."""
    now = now_ms()
    found = await export(stores, subject, settings, now)
    await erase(stores, subject, settings, now)
    return {
        "erased": True,
        "subject": found["subject"],
        "conversations": len(found["conversations"]),
        "leads": len(found["leads"]),
        "feedback": len(found["feedback"]),
        "usage_rows": len(found["usage"]),
    }
