"""The visitor's own data, in the widget (Chromium): "Download this conversation" and "Delete this
conversation", by keyboard, in the visitor's language (issue 24)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import expect

from ..fixtures.service import ServiceProcess
from .conftest import HostSite, host_page
from .test_widget import OpenPage, session_of, widget_page

pytestmark = pytest.mark.browser


def test_a_visitor_downloads_then_deletes_their_conversation_by_keyboard_in_german(
    open_page: OpenPage, demo_service: ServiceProcess, host_site: HostSite
) -> None:
    url = host_site.page("/privacy-de", host_page(f"{demo_service.url}/widget.js", attributes='data-lang="de"'))
    widget = widget_page(open_page, url).open()
    page = widget.page
    download = page.get_by_role("button", name="Dieses Gespräch herunterladen")
    delete = page.get_by_role("button", name="Dieses Gespräch löschen")
    expect(download).to_be_hidden()  # nothing to download before the first message
    expect(delete).to_be_hidden()

    widget.ask("What time is it?")
    session_id = session_of(page, demo_service.url)
    download.focus()
    with page.expect_download() as started:
        page.keyboard.press("Enter")
    saved = started.value
    assert saved.suggested_filename == "conversation.json"
    document = json.loads(Path(saved.path()).read_text(encoding="utf-8"))
    (conversation,) = document["conversations"]
    assert conversation["session_id"] == session_id
    assert conversation["messages"][0]["content"] == "What time is it?"

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    delete.focus()
    page.keyboard.press("Enter")
    expect(widget.notice).to_have_text("Dieses Gespräch wurde gelöscht.")
    assert asked
    assert "löschen" in asked[0]
    expect(widget.answers).to_have_count(0)
    expect(delete).to_be_hidden()
    assert page.evaluate("(key) => localStorage.getItem(key)", f"portfolio-chat:session:{demo_service.url}") is None
    assert httpx2.get(f"{demo_service.url}/session/{session_id}").status_code == 404
    assert httpx2.get(f"{demo_service.url}/session/{session_id}/export").status_code == 404


def test_a_declined_delete_keeps_the_conversation(
    open_page: OpenPage, demo_service: ServiceProcess, host_site: HostSite
) -> None:
    url = host_site.page("/privacy-en", host_page(f"{demo_service.url}/widget.js"))
    widget = widget_page(open_page, url).open()
    widget.ask("What time is it?")
    session_id = session_of(widget.page, demo_service.url)
    widget.page.once("dialog", lambda dialog: dialog.dismiss())
    widget.page.get_by_role("button", name="Delete this conversation").click()
    expect(widget.answers).to_have_count(1)
    assert httpx2.get(f"{demo_service.url}/session/{session_id}").status_code == 200
