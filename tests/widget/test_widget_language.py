"""The widget in the visitor's language, right to left for Arabic, and accessible in each (Chromium).

The language comes from the browser (Playwright's `locale` sets navigator.languages) or the owner's
`data-lang`; axe-core, from the npm package package-lock.json pins, checks the whole host page with
the panel open and an answer in it.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ..fixtures.service import ServiceProcess
from .conftest import PRIVACY_PATH, ROOT, ConsoleWatch, HostSite, host_page
from .test_widget import OpenPage, Screenshot, Widget, widget_page

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def landmarked_page(script_src: str, attributes: str = "") -> str:
    """An owner's page that is itself accessible: its own banner and main landmarks, a language."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sam's portfolio</title><link rel="icon" href="data:,"></head>
<body><header><h1>Sam's portfolio</h1></header><main><p>Projects, talks and contact.</p></main>
<script src="{script_src}" defer {attributes}></script></body></html>"""


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not on the screen"
    return found


# --- the visitor's language ------------------------------------------------------------------------


def test_a_german_browser_gets_the_widget_in_german(
    open_page: OpenPage, demo_service: ServiceProcess, host_site: HostSite, screenshot: Screenshot
) -> None:
    url = host_site.page("/visitor-german", host_page(f"{demo_service.url}/widget.js"))
    widget = widget_page(open_page, url, locale="de-DE")
    expect(widget.root).to_have_attribute("lang", "de-DE")
    expect(widget.root).to_have_attribute("dir", "ltr")
    expect(widget.bubble).to_have_attribute("aria-label", "Chat öffnen: Chat")

    widget.open()
    expect(widget.input).to_have_attribute("placeholder", "Nachricht eingeben…")
    expect(widget.page.get_by_role("button", name="Neues Gespräch")).to_be_visible()
    expect(widget.page.get_by_role("button", name="Nachricht senden")).to_be_visible()
    expect(widget.page.locator("portfolio-chat .pb-greeting")).to_contain_text("Wie kann ich Ihnen helfen?")
    expect(widget.quota).to_have_text(re.compile(r"^Noch [\d.]+ von 1\.000 Nachrichten übrig$"))
    privacy = widget.page.locator("portfolio-chat .pb-privacy")
    expect(privacy).to_contain_text("KI antwortet; Chats befristet gespeichert.")
    expect(privacy.get_by_role("link", name="Datenschutz")).to_be_visible()

    widget.ask("What time is it?")
    expect(widget.answers.last.locator(".pb-tool")).to_contain_text("Uhrzeit nachgesehen")
    rating = widget.answers.last.get_by_role("group", name="Diese Antwort bewerten")
    expect(rating.get_by_role("button", name="Gute Antwort")).to_be_visible()
    rating.get_by_role("button", name="Schlechte Antwort").click()
    expect(rating.get_by_role("textbox", name="Ihr Kommentar zu dieser Antwort (optional)")).to_be_focused()
    expect(rating.get_by_role("status")).to_have_text("Danke für Ihr Feedback.")
    expect(widget.bubble).to_have_attribute("aria-label", "Chat schließen: Chat")
    screenshot(widget.page, "de")


def test_the_owners_data_lang_wins_over_the_browser_and_their_strings_over_the_catalog(
    open_page: OpenPage, demo_service: ServiceProcess, host_site: HostSite
) -> None:
    strings = {"privacyNotice": "Chats are kept for a day.", "fr": {"placeholder": "Posez-moi une question"}}
    url = host_site.page(
        "/owner-french",
        host_page(
            f"{demo_service.url}/widget.js",
            attributes=f"data-lang=\"fr\" data-strings='{escape(json.dumps(strings), quote=True)}'",
        ),
    )
    widget = widget_page(open_page, url, locale="de-DE").open()
    expect(widget.root).to_have_attribute("lang", "fr")
    expect(widget.input).to_have_attribute("placeholder", "Posez-moi une question")
    expect(widget.page.get_by_role("button", name="Nouvelle conversation")).to_be_visible()
    expect(widget.page.locator("portfolio-chat .pb-privacy")).to_contain_text("Chats are kept for a day.")
    expect(widget.page.locator("portfolio-chat .pb-privacy a")).to_have_text("Vie privée")


def test_malformed_data_strings_are_reported_and_the_widget_still_speaks(
    open_page: OpenPage, demo_service: ServiceProcess, host_site: HostSite, console: ConsoleWatch
) -> None:
    url = host_site.page(
        "/owner-typo",
        host_page(f"{demo_service.url}/widget.js", attributes="data-lang=\"es\" data-strings='{placeholder: oops}'"),
    )
    warnings: list[str] = []
    page = open_page("about:blank")
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    page.goto(url)
    widget = Widget(page).open()
    expect(widget.input).to_have_attribute("placeholder", "Escribe tu mensaje…")
    assert any("data-strings is not JSON" in text for text in warnings)
    assert console.errors == []


def test_arabic_runs_right_to_left_with_the_layout_mirrored(
    open_page: OpenPage, demo_service: ServiceProcess, host_site: HostSite, screenshot: Screenshot
) -> None:
    url = host_site.page("/owner-arabic", host_page(f"{demo_service.url}/widget.js", attributes='data-lang="ar"'))
    widget = widget_page(open_page, url)
    expect(widget.root).to_have_attribute("dir", "rtl")
    expect(widget.root).to_have_attribute("lang", "ar")
    assert box(widget.page, "portfolio-chat .pb-bubble")["x"] < 100, "the bubble takes the line's end: bottom left"

    widget.open()
    expect(widget.input).to_have_attribute("placeholder", "اكتب رسالتك…")
    expect(widget.page.locator("portfolio-chat .pb-title")).to_have_text("دردشة")
    widget.ask("What is 6 * 7?")
    expect(widget.answers.last.locator(".pb-tool")).to_contain_text("أجرى عملية حسابية")
    expect(widget.quota).to_contain_text("الرسائل المتبقية")

    page = widget.page
    title, close = box(page, "portfolio-chat .pb-title"), box(page, "portfolio-chat .pb-close")
    assert close["x"] < title["x"], "the header's buttons are on the left, its title on the right"
    user, answer = box(page, "portfolio-chat .pb-user"), box(page, "portfolio-chat .pb-assistant:not(.pb-greeting)")
    log = box(page, "portfolio-chat .pb-messages")
    assert user["x"] - log["x"] < 30, "the visitor's message sits at the line's end: the left"
    assert (log["x"] + log["width"]) - (answer["x"] + answer["width"]) < 30, "the answer starts on the right"
    # an English message keeps its own direction: its question mark ends it on the right
    english = page.locator("portfolio-chat .pb-user .pb-text")
    assert english.evaluate("(node) => getComputedStyle(node).direction") == "ltr"
    send, field = box(page, "portfolio-chat .pb-send"), box(page, "portfolio-chat .pb-input")
    assert send["x"] < field["x"], "the send button follows the text field, to its left"
    styles: dict[str, Any] = page.locator("portfolio-chat .pb-input").evaluate(
        "(node) => ({direction: getComputedStyle(node).direction, align: getComputedStyle(node).textAlign})"
    )
    assert styles == {"direction": "rtl", "align": "start"}
    screenshot(page, "ar")


@pytest.mark.parametrize("lang", ["en", "de", "fr", "es", "pt", "ar"])
def test_the_privacy_line_is_one_line_in_every_language(
    open_page: OpenPage, demo_service: ServiceProcess, host_site: HostSite, lang: str
) -> None:
    url = host_site.page(
        f"/privacy-{lang}", host_page(f"{demo_service.url}/widget.js", attributes=f'data-lang="{lang}"')
    )
    widget = widget_page(open_page, url).open()
    privacy = widget.page.locator("portfolio-chat .pb-privacy")
    expect(privacy.locator("a")).to_have_attribute("href", host_site.origin + PRIVACY_PATH)
    expect(privacy.locator("a")).to_have_attribute("target", "_blank")
    lines = privacy.evaluate(
        "(node) => Math.round(node.getBoundingClientRect().height / parseFloat(getComputedStyle(node).lineHeight))"
    )
    assert lines == 1, f"the {lang} privacy line takes {lines} lines"


# --- accessibility ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip(f"{AXE.relative_to(ROOT)} is missing: run `npm ci` (package.json pins axe-core)")
    return AXE.read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["en", "de", "ar"])
def test_axe_finds_no_violation_on_a_page_with_the_widget_open(
    open_page: OpenPage, demo_service: ServiceProcess, host_site: HostSite, axe_source: str, lang: str
) -> None:
    url = host_site.page(f"/axe-{lang}", landmarked_page(f"{demo_service.url}/widget.js", f'data-lang="{lang}"'))
    widget = widget_page(open_page, url)
    widget.page.add_script_tag(content=axe_source)
    closed = widget.page.evaluate("async () => (await axe.run(document)).violations")

    widget.open()
    widget.ask("What time is it?")
    expect(widget.page.locator(f"portfolio-chat .pb-privacy a[href$='{PRIVACY_PATH}']")).to_be_visible()
    opened = widget.page.evaluate("async () => (await axe.run(document)).violations")

    def found(violations: list[dict[str, Any]]) -> list[str]:
        return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}" for v in violations]

    assert found(closed) == [], "with the panel closed"
    assert found(opened) == [], "with the panel open and an answer shown"
