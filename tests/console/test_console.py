"""The owner's console in real headless Chromium against the live service (`python main.py`).

The data is made the way visitors make it: chat turns over POST /stream and a lead recorded by the
lead tool; the console must show it. Synchronisation is Playwright's auto-waiting `expect`: no sleeps.
Screenshots go to artifacts/console/ (gitignored), kept for a human to look at.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import pytest
from playwright.sync_api import Page, expect

from ..widget.conftest import ROOT, ConsoleWatch, ServiceProcess

pytestmark = pytest.mark.browser

TOKEN = "console-token-5b1d2f9a7c"
ARTIFACTS = ROOT / "artifacts" / "console"
OpenPage = Callable[..., Page]


@pytest.fixture(scope="module")
def admin_service(service_for: Callable[..., ServiceProcess]) -> ServiceProcess:
    """The demo service with the console on, a budget to show, and two visitors' conversations."""
    service = service_for(
        ADMIN_TOKEN=TOKEN,
        ADMIN_AUTH_LIMIT="5/hour",
        DAILY_BUDGET_USD="5",
        MODEL_PRICES='{"offline-demo": {"input": 100, "output": 200}}',  # so the demo's turns cost something
        DEMO_WORD_DELAY="0",
    )
    with httpx2.Client(base_url=service.url, timeout=30) as client:
        session_id = client.post("/session").json()["session_id"]
        for prompt in ("What is 15 * 7 + 23?", "My name is Ada"):
            assert client.post("/stream", json={"prompt": prompt, "session_id": session_id}).status_code == 200
        assert client.post("/stream", json={"prompt": "Hello there"}).status_code == 200
        lead = client.post(
            "/tools/test",
            json={
                "tool_name": "record_user_details",
                "arguments": {"email": "ada@example.com", "name": "Ada", "notes": "Wants a <b>quote</b>"},
                "session_id": session_id,
            },
        )
        assert lead.json()["success"] is True, lead.text
    return service


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Page, str], None]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}.png"), full_page=True)

    return save


def sign_in(page: Page, token: str) -> None:
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_the_owner_signs_in_and_sees_charts_leads_and_transcripts(
    open_page: OpenPage, admin_service: ServiceProcess, shot: Callable[[Page, str], None]
) -> None:
    page = open_page(f"{admin_service.url}/admin")
    shot(page, "sign-in")
    sign_in(page, TOKEN)

    # today's figures and the 30-day charts come from the turns above, not from the page
    with httpx2.Client(base_url=admin_service.url) as client:
        usage = client.get("/admin/api/usage", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    today = usage["days"][-1]
    assert today["turns"] == 3
    assert today["visitors"] == 1  # every request came from 127.0.0.1
    turns_chart = page.locator("figure[data-metric=turns] svg")
    expect(turns_chart).to_have_attribute("data-values", ",".join(str(day["turns"]) for day in usage["days"]))
    today_bar = page.locator("figure[data-metric=turns] svg rect.bar").last
    assert float(today_bar.get_attribute("height") or 0) > 0
    expect(page.locator("#today")).to_contain_text("3")
    expect(page.locator("#budget")).to_contain_text("of $5.00")

    # the lead, with markup shown as text, never as HTML
    lead = page.locator("#leads li").first
    expect(lead).to_contain_text("Ada <ada@example.com>")
    expect(lead).to_contain_text("Wants a <b>quote</b>")
    assert page.locator("#leads b").count() == 0
    shot(page, "overview")

    # a transcript, opened from the conversations list
    page.locator("#conversations button").first.click()
    transcript = page.locator("#transcript")
    expect(transcript).to_be_visible()
    expect(transcript).to_contain_text("What is 15 * 7 + 23?")
    expect(transcript.locator("li[data-role=tool]")).to_contain_text("128")
    shot(page, "transcript")

    # the token lives in this tab's sessionStorage and never went into a URL
    assert page.evaluate("sessionStorage.getItem('portfolio-admin-token')") == TOKEN
    assert TOKEN not in page.url


def test_a_wrong_token_is_refused_and_nothing_is_shown(
    open_page: OpenPage, admin_service: ServiceProcess, console: ConsoleWatch, shot: Callable[[Page, str], None]
) -> None:
    console.allow("401")  # the browser logs the refused fetch
    page = open_page(f"{admin_service.url}/admin")
    sign_in(page, "not-the-token")
    expect(page.locator("#sign-in-error")).to_have_text("Wrong admin token.")
    expect(page.locator("#console")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('portfolio-admin-token')") is None
    shot(page, "refused")


def test_the_console_is_readable_on_a_phone(
    open_page: OpenPage, admin_service: ServiceProcess, shot: Callable[[Page, str], None]
) -> None:
    page = open_page(
        f"{admin_service.url}/admin", viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    sign_in(page, TOKEN)
    expect(page.locator("figure[data-metric=cost_usd] svg")).to_be_visible()
    expect(page.locator("#leads li").first).to_be_visible()
    # nothing wider than the screen: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "phone")
