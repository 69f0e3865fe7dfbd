"""Owner tools for lead capture: record_user_details and record_unknown_question.

Each record is kept in the store with its time and session (the owner's backlog, `LeadStore.newest`,
listed in the console at /admin) and, when NOTIFY_WEBHOOK_URL is set, POSTed there as JSON whose
`message` (and `text`, Slack-escaped) is a ready sentence. Both tools are offered when the owner can see
what they record: with NOTIFY_WEBHOOK_URL or with the console (ADMIN_TOKEN). A steered model could
call them in a loop to flood the owner's phone, so each visitor may send `NOTIFICATIONS_PER_DAY` of
them per UTC day.
The notification has no session id: webhook receivers such as public ntfy topics are not secret,
and a session id opens a conversation's history.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from uuid import uuid4

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from ..clock import now_ms
from ..errors import RateLimited
from ..quota import Bound, Limiter
from ..settings import RateSpec, Settings
from ..store import Lead, StoreError
from .base import ArgsT, Tool, ToolContext, ToolError
from .notification import notification
from .outbound import post_json
from .own_words import not_written, wrote_address

log = logging.getLogger(__name__)

# Notifications one visitor may trigger per UTC day, both tools together.
NOTIFICATIONS_PER_DAY = 5
NOTIFICATIONS = Bound(
    "notify",
    RateSpec(NOTIFICATIONS_PER_DAY, 86400),
    "The owner has already been sent several messages from this visitor today; "
    "please use the contact details on the site instead",
)

Text = Annotated[str, StringConstraints(strip_whitespace=True)]


class UserDetailsArgs(BaseModel):
    email: Annotated[EmailStr, Field(max_length=254)] = Field(
        description="The visitor's email address, exactly as they gave it."
    )
    name: Text | None = Field(None, max_length=100, description="The visitor's name, if they gave it.")
    notes: Text | None = Field(
        None, max_length=1000, description="What they would like to discuss, in a sentence or two."
    )


QUESTION_MAX_CHARS = 500


class UnknownQuestionArgs(BaseModel):
    question: Text = Field(
        min_length=1,
        max_length=QUESTION_MAX_CHARS,
        description="The visitor's question you could not answer, as they asked it.",
    )


class _OwnerNotice(Tool[ArgsT]):
    """Store a lead, then notify the owner; enabled with NOTIFY_WEBHOOK_URL or the console (ADMIN_TOKEN)."""

    def enabled(self, settings: Settings) -> bool:
        return bool(settings.notify_webhook_url or settings.admin_token)

    async def _record(self, ctx: ToolContext, lead: Lead, message: str) -> bool | None:
        """Store and notify; whether the notification went out (None: no webhook, the console shows
        it). ToolError when nothing worked, or when the visitor is over their daily allowance."""
        # the app's limiter (its clock, RATE_LIMIT_FAIL_OPEN, metrics); a bare one outside the app
        limiter = ctx.limiter or Limiter(ctx.stores.counters)
        try:
            await limiter.admit([(NOTIFICATIONS, ctx.visitor)])
        except StoreError as exc:
            log.warning("notification allowance unavailable: %s", exc)
            raise ToolError("This cannot be recorded right now; please try again later") from exc
        except RateLimited as exc:
            raise ToolError(NOTIFICATIONS.message) from exc
        stored = True
        try:
            await ctx.stores.leads.add(lead)
        except StoreError as exc:
            log.warning("lead not stored: %s", exc)
            stored = False
        if not ctx.settings.notify_webhook_url:  # the console is where the owner sees it
            if not stored:
                raise ToolError("This cannot be recorded right now; please try again later")
            return None
        notified = True
        try:
            await post_json(
                ctx.http,
                ctx.settings.notify_webhook_url,
                notification(_payload(lead), message),
                service="The owner's notification service",
                timeout=ctx.settings.tool_timeout_seconds,
            )
        except ToolError as exc:
            log.warning("owner not notified: %s", exc)
            notified = False
        if not stored and not notified:
            raise ToolError("This cannot be recorded right now; please try again later")
        return notified


def _refuse_foreign(field: str, value: str | None, visitor_text: str) -> None:
    """ToolError naming the addresses, links and phone numbers in `value` the visitor did not write."""
    foreign = not_written(value or "", visitor_text)
    if not foreign:
        return
    quoted = [repr(item) for item in foreign]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
    verb, pronoun = ("is", "it") if len(quoted) == 1 else ("are", "them")
    raise ToolError(f"{field}: {listed} {verb} not what the visitor wrote; leave {pronoun} out")


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _payload(lead: Lead) -> dict[str, Any]:
    body: dict[str, Any] = {"type": lead.kind, "id": lead.lead_id}
    for field in ("email", "name", "notes", "question"):
        value = getattr(lead, field)
        if value:
            body[field] = value
    return body


class RecordUserDetails(_OwnerNotice[UserDetailsArgs]):
    name = "record_user_details"
    label = "Passed your details to the owner"
    description = (
        "Record a visitor's contact details so the site owner can get back to them. Call it only when the "
        "visitor has given their email address and wants to be contacted."
    )
    Args = UserDetailsArgs

    async def run(self, args: UserDetailsArgs, ctx: ToolContext) -> str:
        if ctx.visitor_text is not None:
            # the visitor's own words, not an address, link or number the model read in a page or passage
            if not wrote_address(str(args.email), ctx.visitor_text):
                raise ToolError("The visitor has not written this email address; ask them for theirs first")
            for field in ("name", "notes"):
                _refuse_foreign(field, getattr(args, field), ctx.visitor_text)
        lead = Lead(
            lead_id=uuid4().hex,
            kind="contact",
            created_at=now_ms(),
            session_id=ctx.session_id,
            email=str(args.email),
            name=args.name or None,
            notes=args.notes or None,
        )
        who = f"{lead.name} <{lead.email}>" if lead.name else str(lead.email)
        message = f"New contact from the portfolio chat: {who}"
        if lead.notes:
            message += f": {lead.notes}"
        notified = await self._record(ctx, lead, message)
        if notified is None:
            return f"Recorded {lead.email} for the owner, who can reply to it."
        if notified:
            return f"Recorded: the owner has been notified and can reply to {lead.email}."
        return f"Recorded {lead.email} for the owner, who will see it (the instant notification could not be sent)."


class RecordUnknownQuestion(_OwnerNotice[UnknownQuestionArgs]):
    name = "record_unknown_question"
    label = "Noted the question for the owner"
    description = (
        "Record a question you could not answer from what you know about the site owner, so the owner can "
        "answer it later. Call it after telling the visitor you do not know."
    )
    Args = UnknownQuestionArgs

    async def run(self, args: UnknownQuestionArgs, ctx: ToolContext) -> str:
        # the model decides whether to record, not what: the owner gets the visitor's own message
        # (the newest one the model's question is about), never the model's wording of it
        question = ctx.visitor_message_about(args.question)
        if question is None:
            raise ToolError("The visitor has not asked this; record only a question they asked")
        lead = Lead(
            lead_id=uuid4().hex,
            kind="question",
            created_at=now_ms(),
            session_id=ctx.session_id,
            question=_clip(question, QUESTION_MAX_CHARS),
        )
        notified = await self._record(ctx, lead, f"Question the portfolio chat could not answer: {lead.question}")
        if notified is None:
            return "Recorded for the owner, who will see this question."
        if notified:
            return "Recorded: the owner has been told about this question."
        return "Recorded for the owner, who will see it (the instant notification could not be sent)."
