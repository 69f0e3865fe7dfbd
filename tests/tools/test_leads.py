"""record_user_details and record_unknown_question: stored, owner notified by webhook, bounded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from portfolio_backend.settings import Settings
from portfolio_backend.store import Stores
from portfolio_backend.tools.leads import NOTIFICATIONS_PER_DAY

from ..fixtures.fake_http import Answer, FakeHTTP, closed_port_url
from .conftest import MakeSettings, ToolBench

BenchFor = Callable[[Settings, Stores], ToolBench]
OWNER_TOOLS = ("record_user_details", "record_unknown_question")


@pytest.fixture
def notify(fake_http: FakeHTTP) -> FakeHTTP:
    fake_http.on("POST", "/notify", Answer(200, {"id": "msg-1"}))
    return fake_http


@pytest.fixture
def lead_bench(stores: Stores, tool_settings: MakeSettings, bench_for: BenchFor, notify: FakeHTTP) -> ToolBench:
    return bench_for(tool_settings(notify_webhook_url=notify.url("/notify")), stores)


async def test_owner_tools_are_off_without_a_notify_webhook_or_the_console(bench: ToolBench) -> None:
    offered = [spec["function"]["name"] for spec in bench.registry.specs()]
    listed = {tool["name"]: tool["enabled"] for tool in bench.registry.describe()}
    for name in OWNER_TOOLS:
        assert name not in offered
        assert listed[name] is False
    ok, text = await bench.call("record_unknown_question", {"question": "q?"})
    assert (ok, text) == (False, "Error: Unknown or disabled tool: 'record_unknown_question'")


async def test_records_contact_details_and_notifies_the_owner(
    lead_bench: ToolBench, stores: Stores, notify: FakeHTTP
) -> None:
    assert {"record_user_details", "record_unknown_question"} <= {
        spec["function"]["name"] for spec in lead_bench.registry.specs()
    }

    ok, text = await lead_bench.call(
        "record_user_details",
        {"email": "ada@example.com", "name": " Ada ", "notes": "Wants a FastAPI backend"},
        session_id="session-secret-id",
    )

    assert (ok, text) == (True, "Recorded: the owner has been notified and can reply to ada@example.com.")
    (lead,) = await stores.leads.newest(10)
    assert (lead.kind, lead.email, lead.name, lead.notes, lead.session_id) == (
        "contact",
        "ada@example.com",
        "Ada",
        "Wants a FastAPI backend",
        "session-secret-id",
    )
    (request,) = notify.requests
    message = "New contact from the portfolio chat: Ada <ada@example.com>: Wants a FastAPI backend"
    assert request.json() == {
        "type": "contact",
        "id": lead.lead_id,
        "email": "ada@example.com",
        "name": "Ada",
        "notes": "Wants a FastAPI backend",
        "message": message,
        "text": "New contact from the portfolio chat: Ada &lt;ada@example.com&gt;: Wants a FastAPI backend",
    }
    assert b"session-secret-id" not in request.body


async def test_records_an_unknown_question_and_notifies_the_owner(
    lead_bench: ToolBench, stores: Stores, notify: FakeHTTP
) -> None:
    ok, text = await lead_bench.call("record_unknown_question", {"question": "Does she speak Rust?"})

    assert (ok, text) == (True, "Recorded: the owner has been told about this question.")
    (lead,) = await stores.leads.newest(10)
    assert (lead.kind, lead.question) == ("question", "Does she speak Rust?")
    assert notify.requests[0].json()["message"] == "Question the portfolio chat could not answer: Does she speak Rust?"


@pytest.mark.parametrize("email", ["not-an-email", "ada@", "@example.com", "ada@example", "a" * 250 + "@example.com"])
async def test_an_invalid_email_is_an_argument_error(lead_bench: ToolBench, notify: FakeHTTP, email: str) -> None:
    ok, text = await lead_bench.call("record_user_details", {"email": email})
    assert not ok
    assert text.startswith("Error: email: value is not a valid email address")
    assert notify.requests == []


async def test_email_deliverability_is_not_checked(lead_bench: ToolBench) -> None:
    ok, _ = await lead_bench.call("record_user_details", {"email": "someone@no-such-domain-0x9f.dev"})
    assert ok


async def test_kept_even_when_the_owner_cannot_be_notified(
    stores: Stores, tool_settings: MakeSettings, bench_for: BenchFor
) -> None:
    bench = bench_for(tool_settings(notify_webhook_url=closed_port_url() + "/notify"), stores)

    ok, text = await bench.call("record_user_details", {"email": "ada@example.com"})

    assert (ok, text) == (
        True,
        "Recorded ada@example.com for the owner, who will see it (the instant notification could not be sent).",
    )
    assert [lead.email for lead in await stores.leads.newest(10)] == ["ada@example.com"]


async def test_a_webhook_error_still_keeps_the_question(
    stores: Stores, tool_settings: MakeSettings, bench_for: BenchFor, fake_http: FakeHTTP
) -> None:
    fake_http.on("POST", "/notify", Answer(429, {"error": "slow down"}))
    bench = bench_for(tool_settings(notify_webhook_url=fake_http.url("/notify")), stores)

    ok, text = await bench.call("record_unknown_question", {"question": "q?"})

    assert ok
    assert "could not be sent" in text
    assert len(await stores.leads.newest(10)) == 1


async def test_one_visitor_can_notify_the_owner_only_a_few_times_a_day(
    lead_bench: ToolBench, stores: Stores, notify: FakeHTTP
) -> None:
    for n in range(NOTIFICATIONS_PER_DAY):
        assert (await lead_bench.call("record_unknown_question", {"question": f"q{n}?"}))[0]

    ok, text = await lead_bench.call("record_user_details", {"email": "spam@example.com"})

    assert not ok
    assert text.startswith("Error: The owner has already been sent several messages from this visitor today")
    assert len(notify.requests) == NOTIFICATIONS_PER_DAY
    assert len(await stores.leads.newest(100)) == NOTIFICATIONS_PER_DAY
    assert (await lead_bench.call("record_unknown_question", {"question": "q?"}, visitor="visitor-2"))[0]


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("record_user_details", {"email": "a@example.com", "name": "n" * 101}, "name: String should have at most 100"),
        ("record_user_details", {"email": "a@example.com", "notes": "n" * 1001}, "notes: String should have at most"),
        ("record_user_details", {}, "email: Field required"),
        ("record_unknown_question", {"question": ""}, "question: String should have at least 1 character"),
        ("record_unknown_question", {"question": "q" * 501}, "question: String should have at most 500"),
    ],
)
async def test_bounds_are_argument_errors(
    lead_bench: ToolBench, tool: str, arguments: dict[str, Any], message: str
) -> None:
    ok, text = await lead_bench.call(tool, arguments)
    assert not ok
    assert text.startswith(f"Error: {message}")


async def test_with_the_console_but_no_webhook_leads_are_stored_with_time_and_session(
    stores: Stores, tool_settings: MakeSettings, bench_for: BenchFor
) -> None:
    bench = bench_for(tool_settings(admin_token="owner-token-0123456789"), stores)
    assert {"record_user_details", "record_unknown_question"} <= {
        spec["function"]["name"] for spec in bench.registry.specs()
    }
    ok, text = await bench.call("record_user_details", {"email": "ada@example.com", "name": "Ada"})
    assert ok, text
    assert "ada@example.com" in text
    assert "could not be sent" not in text
    ok, text = await bench.call("record_unknown_question", {"question": "Do you sail?"})
    assert ok, text
    question, contact = await stores.leads.newest(10)
    assert (question.kind, question.question) == ("question", "Do you sail?")
    assert (contact.kind, contact.email, contact.name) == ("contact", "ada@example.com", "Ada")
    assert question.session_id == contact.session_id == "session-a"
    assert question.created_at >= contact.created_at > 0
