"""The console's answers to fix, in real headless Chromium against the live service: a visitor's 👎
and an unknown question lead to an owner answer written in the editor, which the assistant then
gives as the owner's own answer; edited and deleted there too. No sleeps: Playwright's `expect`."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import pytest
from playwright.sync_api import Page, expect

from ..sse import parse_events, text_of
from ..widget.conftest import ServiceProcess

pytestmark = pytest.mark.browser

TOKEN = "console-token-answers-31c7"
OWNER = {"Authorization": f"Bearer {TOKEN}"}
OpenPage = Callable[..., Page]
DISLIKED = "Which languages does Alex speak?"
UNKNOWN = "Does Alex take on weekend work?"


@pytest.fixture(scope="module")
def answers_service(service_for: Callable[..., ServiceProcess]) -> ServiceProcess:
    """The demo service with the console on, one answer a visitor rated 👎 and one unknown question."""
    service = service_for(ADMIN_TOKEN=TOKEN, DEMO_WORD_DELAY="0")
    with httpx2.Client(base_url=service.url, timeout=30) as client:
        session_id = client.post("/session").json()["session_id"]
        answered = client.post("/stream", json={"prompt": DISLIKED, "session_id": session_id})
        rated = client.post(
            "/feedback",
            json={
                "turn_id": answered.headers["x-turn-id"],
                "rating": "down",
                "comment": "She speaks <b>Welsh</b> too.",
            },
        )
        assert rated.status_code == 204, rated.text
        unknown = client.post(
            "/tools/test",
            json={"tool_name": "record_unknown_question", "arguments": {"question": UNKNOWN}, "session_id": session_id},
        )
        assert unknown.json()["success"] is True, unknown.text
    return service


def ask(service: ServiceProcess, prompt: str) -> list[dict[str, object]]:
    return parse_events(httpx2.post(f"{service.url}/stream", json={"prompt": prompt}, timeout=30).text)


def test_the_owner_answers_a_disliked_answer_and_the_assistant_gives_it_as_their_own(
    open_page: OpenPage, answers_service: ServiceProcess
) -> None:
    page = open_page(f"{answers_service.url}/admin")
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()

    disliked = page.locator("#disliked li")
    expect(disliked).to_have_count(1)
    expect(disliked).to_contain_text(DISLIKED)
    expect(disliked).to_contain_text("Visitor: She speaks <b>Welsh</b> too.")  # as text, never HTML
    disliked.get_by_role("button", name="Open conversation").click()
    expect(page.locator("#messages")).to_contain_text(DISLIKED)
    expect(page.locator("#unknown li")).to_contain_text(UNKNOWN)

    disliked.get_by_role("button", name="Write the right answer").click()
    expect(page.get_by_role("textbox", name="Question", exact=True)).to_have_value(DISLIKED)
    expect(page.get_by_role("textbox", name="Your answer", exact=True)).to_be_focused()
    page.keyboard.type("English, Portuguese and Welsh.")
    page.get_by_role("button", name="Save answer").click()
    expect(page.locator("#answer-status")).to_have_text("Saved. The assistant uses it from the next question.")
    written = page.locator("#owner-answers li")
    expect(written).to_have_count(1)
    expect(written).to_contain_text("English, Portuguese and Welsh.")

    events = ask(answers_service, DISLIKED)
    sources = [source for event in events if event["type"] == "sources" for source in event["sources"]]  # type: ignore[attr-defined]
    assert sources[0]["title"] == f"The owner's own answer — {DISLIKED}"
    assert "English, Portuguese and Welsh." in text_of(events)  # the demo model quotes the best passage

    written.get_by_role("button", name="Edit").click()
    expect(page.get_by_role("textbox", name="Question", exact=True)).to_have_value(DISLIKED)
    expect(page.get_by_role("textbox", name="Your answer", exact=True)).to_be_focused()
    page.get_by_role("textbox", name="Your answer", exact=True).fill("English, Portuguese, Welsh and some Spanish.")
    page.get_by_role("button", name="Save changes").click()
    expect(written).to_contain_text("some Spanish")
    assert "some Spanish" in text_of(ask(answers_service, DISLIKED))

    page.locator("#unknown li").get_by_role("button", name="Write the right answer").click()
    expect(page.get_by_role("textbox", name="Question", exact=True)).to_have_value(UNKNOWN)

    written.get_by_role("button", name="Delete").click()
    expect(written).to_have_count(0)
    expect(page.locator("#owner-answers-empty")).to_be_visible()
    assert "some Spanish" not in text_of(ask(answers_service, DISLIKED))
