"""Data-subject requests: find everything about a session, a visitor or an email address, show it
as one JSON document, and erase it from every domain (store/privacy does the erasing).

A request names one thing; what it covers grows from there once: a visitor (their pseudonym)
brings every session and transcript they hold, an email address the leads that carry it and the
conversations those leads came from. A session id covers that conversation only, not the
visitor's other ones (it is what the visitor themselves holds: GET /session/{id}/export).
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import asdict
from typing import Any

from .quota import VisitorPseudonyms
from .quota.visitor import parse_ip, visitor_key
from .settings import Settings
from .store import FEEDBACK_KEPT, LEADS_KEPT, Message, Stores
from .store.privacy import Subject
from .store.usage import DAY_SECONDS


class Named(enum.Enum):
    """What the owner looked a request up by."""

    SESSION = "session"
    VISITOR = "visitor"  # a pseudonym, or an IP address turned into one
    EMAIL = "email"


def visitor_of(text: str, settings: Settings, pseudonyms: VisitorPseudonyms) -> str:
    """The pseudonym a request names: an IP address is hashed as the quota hashes it (its IPv6
    network included), anything else is taken as a pseudonym already."""
    address = parse_ip(text.strip())
    if address is None:
        return text.strip()
    return pseudonyms.of(visitor_key(address, settings.ipv6_prefix))


async def subject_of(stores: Stores, named: Named, value: str, now: int) -> Subject:
    """Everything a request for `value` covers (module docstring)."""
    if named is Named.SESSION:
        return Subject(session_ids=frozenset({value}))
    if named is Named.VISITOR:
        sessions, transcripts = await asyncio.gather(
            stores.sessions.list_for(value, now), stores.transcripts.for_visitor(value, now)
        )
        ids = {meta.session_id for meta in sessions} | set(transcripts)
        return Subject(session_ids=frozenset(ids), visitors=frozenset({value}))
    email = value.strip().lower()
    leads = await stores.leads.newest(LEADS_KEPT)
    ids = {lead.session_id for lead in leads if lead.session_id and (lead.email or "").lower() == email}
    return Subject(session_ids=frozenset(ids), emails=frozenset({email}))


def usage_days(settings: Settings, now: int) -> range:
    """The UTC days whose usage rows can still exist (USAGE_RETENTION_DAYS, and today)."""
    today = now // 1000 // DAY_SECONDS
    return range(today - settings.usage_retention_days - 1, today + 1)


async def export(stores: Stores, subject: Subject, settings: Settings, now: int) -> dict[str, Any]:
    """One JSON document of everything the store holds about `subject`."""
    conversations = [await _conversation(stores, session_id, now) for session_id in sorted(subject.session_ids)]
    leads = [
        asdict(lead)
        for lead in await stores.leads.newest(LEADS_KEPT)
        if lead.session_id in subject.session_ids or (lead.email or "").lower() in subject.emails
    ]
    feedback = [
        asdict(item)
        for item in await stores.feedback.newest(FEEDBACK_KEPT)
        if item.session_id in subject.session_ids or item.visitor in subject.visitors
    ]
    return {
        "subject": {
            "session_ids": sorted(subject.session_ids),
            "visitors": sorted(subject.visitors),
            "emails": sorted(subject.emails),
        },
        "exported_at": now,
        "conversations": [conversation for conversation in conversations if conversation is not None],
        "leads": leads,
        "feedback": feedback,
        "usage": await _usage(stores, subject, usage_days(settings, now)),
    }


async def erase(stores: Stores, subject: Subject, settings: Settings, now: int) -> None:
    """Delete everything about `subject` on every domain."""
    await stores.privacy.erase(subject, usage_days(settings, now))


async def _conversation(stores: Stores, session_id: str, now: int) -> dict[str, Any] | None:
    record, transcript, reminders = await asyncio.gather(
        stores.sessions.load(session_id, now),
        stores.transcripts.load(session_id, now),
        stores.reminders.list_for(session_id),
    )
    if record is None and transcript is None:
        return None
    # the transcript holds every message the session ever had; the session only its recent ones
    messages: list[Message] = transcript.messages if transcript is not None else record.messages  # type: ignore[union-attr]
    meta = transcript.meta if transcript is not None else record.meta  # type: ignore[union-attr]
    return {
        "session_id": session_id,
        "visitor": meta.visitor,
        "created_at": meta.created_at,
        "last_activity": meta.last_activity,
        "session_open": record is not None,
        "messages": [asdict(message) for message in messages],
        "reminders": [asdict(reminder) for reminder in reminders],
    }


async def _usage(stores: Stores, subject: Subject, days: range) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for visitor in sorted(subject.visitors):
        tallies = await asyncio.gather(*(stores.usage.visitor(day, visitor) for day in days))
        rows += [{"day": day, "visitor": visitor, **asdict(t)} for day, t in zip(days, tallies, strict=True) if t.turns]
    for session_id in sorted(subject.session_ids):
        tallies = await asyncio.gather(*(stores.usage.session(day, session_id) for day in days))
        rows += [
            {"day": day, "session_id": session_id, **asdict(t)} for day, t in zip(days, tallies, strict=True) if t.turns
        ]
    return rows
