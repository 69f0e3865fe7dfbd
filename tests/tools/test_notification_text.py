"""What reaches the owner's webhook is escaped for where it goes: Slack reads `text` as mrkdwn, where
`<!channel>` pings everyone and `<https://...|label>` disguises a link. The visitor's words arrive
as their own JSON fields, and inert in `text`. At the HTTP boundary, with the fake receiver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import httpx2
import pytest

from portfolio_backend.clock import now_ms
from portfolio_backend.settings import Settings
from portfolio_backend.store import Reminder, Stores
from portfolio_backend.workers.reminders import dispatch_due

from ..fixtures.fake_http import Answer, FakeHTTP
from .conftest import MakeSettings, ToolBench

PING_EVERYONE = "<!channel>"
DISGUISED_LINK = "<https://evil.example/login|your invoice>"


def unescaped(text: str) -> str:
    """Slack's reading of escaped text: what the owner sees."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def assert_inert_for_slack(body: dict[str, Any]) -> None:
    text = body["text"]
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text.replace("&lt;", "").replace("&gt;", "").replace("&amp;", "")
    assert unescaped(text) == body["message"], "the owner reads the same sentence, shown as written"


@pytest.fixture
async def notify(fake_http: FakeHTTP) -> FakeHTTP:
    fake_http.on("POST", "/notify", Answer(200, {"ok": True}))
    fake_http.on("POST", "/hook", Answer(200, {"ok": True}))
    return fake_http


@pytest.fixture
def lead_bench(
    plain_stores: Stores,
    tool_settings: MakeSettings,
    bench_for: Callable[[Settings, Stores], ToolBench],
    notify: FakeHTTP,
) -> ToolBench:
    return bench_for(tool_settings(notify_webhook_url=notify.url("/notify")), plain_stores)


async def test_a_contact_s_name_and_notes_cannot_ping_the_channel_or_disguise_a_link(
    lead_bench: ToolBench, notify: FakeHTTP
) -> None:
    ok, _ = await lead_bench.call(
        "record_user_details",
        {"email": "ada@example.com", "name": f"Ada {PING_EVERYONE}", "notes": f"Pay {DISGUISED_LINK} & thanks"},
    )

    assert ok
    (request,) = notify.requests
    body = request.json()
    # the fields as the visitor gave them, for receivers that build their own message
    assert (body["name"], body["notes"], body["email"]) == (
        f"Ada {PING_EVERYONE}",
        f"Pay {DISGUISED_LINK} & thanks",
        "ada@example.com",
    )
    assert body["message"] == (
        f"New contact from the portfolio chat: Ada {PING_EVERYONE} <ada@example.com>: Pay {DISGUISED_LINK} & thanks"
    )
    assert body["text"] == (
        "New contact from the portfolio chat: Ada &lt;!channel&gt; &lt;ada@example.com&gt;: "
        "Pay &lt;https://evil.example/login|your invoice&gt; &amp; thanks"
    )
    assert_inert_for_slack(body)


async def test_an_unknown_question_cannot_ping_the_channel(lead_bench: ToolBench, notify: FakeHTTP) -> None:
    ok, _ = await lead_bench.call("record_unknown_question", {"question": f"{PING_EVERYONE} is {DISGUISED_LINK} hers?"})

    assert ok
    body = notify.requests[0].json()
    assert body["question"] == f"{PING_EVERYONE} is {DISGUISED_LINK} hers?"
    assert body["text"] == (
        "Question the portfolio chat could not answer: "
        "&lt;!channel&gt; is &lt;https://evil.example/login|your invoice&gt; hers?"
    )
    assert_inert_for_slack(body)


async def test_a_due_reminder_cannot_ping_the_channel(
    plain_stores: Stores, http: httpx2.AsyncClient, notify: FakeHTTP
) -> None:
    now = now_ms()
    due = Reminder(
        uuid4().hex, "session-a", f"Call {PING_EVERYONE}", f"see {DISGUISED_LINK}", now - 1, "2030-01-01T10:00", 0
    )
    await plain_stores.reminders.add(due, 10)

    assert await dispatch_due(plain_stores.reminders, http, notify.url("/hook"), now) == 1

    body = notify.requests[0].json()
    assert (body["title"], body["description"]) == (f"Call {PING_EVERYONE}", f"see {DISGUISED_LINK}")
    assert body["text"] == (
        "Reminder: Call &lt;!channel&gt; — see &lt;https://evil.example/login|your invoice&gt; (due 2030-01-01T10:00)"
    )
    assert_inert_for_slack(body)
