"""The console's privacy panel in Chromium (issue 24): the retention periods, and a data-subject
request answered in a minute: find by email address, download the JSON, erase."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Page, expect

from ..widget.conftest import ServiceProcess
from .test_console import OpenPage, sign_in

pytestmark = pytest.mark.browser

TOKEN = "console-token-privacy-8c1e"
EMAIL = "grace@example.com"


@pytest.fixture(scope="module")
def privacy_service(service_for: Callable[..., ServiceProcess]) -> tuple[ServiceProcess, str]:
    """The demo service with the console on, and a visitor who left their email in a conversation."""
    service = service_for(ADMIN_TOKEN=TOKEN, DEMO_WORD_DELAY="0", LEADS_RETENTION_DAYS="180")
    with httpx2.Client(base_url=service.url, timeout=30) as client:
        session_id = client.post("/session").json()["session_id"]
        assert client.post("/stream", json={"prompt": "I am Grace", "session_id": session_id}).status_code == 200
        lead = client.post(
            "/tools/test",
            json={
                "tool_name": "record_user_details",
                "arguments": {"email": EMAIL, "name": "Grace", "notes": "Call me"},
                "session_id": session_id,
            },
        )
        assert lead.json()["success"] is True, lead.text
    return service, session_id


def test_the_owner_finds_downloads_and_erases_a_visitors_data_by_email(
    open_page: OpenPage, privacy_service: tuple[ServiceProcess, str]
) -> None:
    service, session_id = privacy_service
    page: Page = open_page(f"{service.url}/admin")
    sign_in(page, TOKEN)
    retention = page.locator("#retention")
    expect(retention).to_contain_text("30 days after the last message")
    expect(retention).to_contain_text("180 days")
    page.locator(f"#kept button[data-session-id='{session_id}']").click()  # the conversation kept for review
    expect(page.locator("#transcript")).to_contain_text("I am Grace")

    page.get_by_label("Find by").select_option("email")
    page.get_by_label("Value").fill(EMAIL)
    page.get_by_role("button", name="Find").click()
    found = page.locator("#subject-found")
    expect(found).to_contain_text("Conversations1")
    expect(found).to_contain_text("Leads and questions1")

    with page.expect_download() as started:
        page.get_by_role("button", name="Download JSON").click()
    document = json.loads(Path(started.value.path()).read_text(encoding="utf-8"))
    assert document["leads"][0]["email"] == EMAIL
    assert document["conversations"][0]["messages"][0]["content"] == "I am Grace"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Erase everything").click()
    expect(page.locator("#subject-status")).to_have_text("Erased: 1 conversations, 1 leads, 0 ratings.")
    with httpx2.Client(base_url=service.url) as client:
        assert client.get(f"/session/{session_id}").status_code == 404
        leads = client.get("/admin/api/leads", headers={"Authorization": f"Bearer {TOKEN}"}).json()["leads"]
    assert leads == []
