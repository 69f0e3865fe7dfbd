"""The chat widget in real headless Chromium against the live service (`python main.py`).

Synchronisation is Playwright's auto-waiting `expect` and `wait_for_function`, or the scripted
upstream's own events: no sleeps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Locator, Page, expect

from ..fixtures.service import ServiceProcess
from ..fixtures.upstream import Reply, ScriptedToolCall, ScriptedUpstream
from .conftest import SCRIPTED_PROMPT_MAX_CHARS, ConsoleWatch, FlakyNetwork, HostSite, host_page

pytestmark = pytest.mark.browser

MARKDOWN_SUBSET = Path(__file__).parent / "js" / "markdown-subset.json"

OpenPage = Callable[..., Page]
Screenshot = Callable[[Page, str], None]

# Splits every /stream response body into 3-byte reads: lines and UTF-8 characters arrive in pieces.
RECHUNK_STREAM = """
(() => {
  const realFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await realFetch(input, init);
    if (!String(input).endsWith("/stream") || !response.body) return response;
    const reader = response.body.getReader();
    const body = new ReadableStream({
      async pull(controller) {
        const step = await reader.read();
        if (step.done) { controller.close(); return; }
        for (let i = 0; i < step.value.length; i += 3) controller.enqueue(step.value.slice(i, i + 3));
      },
      cancel(reason) { return reader.cancel(reason); },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
})();
"""

# Records every state of the newest answer's text while it streams.
RECORD_ANSWER_STATES = """
() => {
  const log = document.querySelector("portfolio-chat").shadowRoot.querySelector(".pb-messages");
  window.__answerStates = [];
  new MutationObserver(() => {
    const texts = log.querySelectorAll(".pb-assistant:not(.pb-greeting) .pb-text");
    const last = texts[texts.length - 1];
    if (last) window.__answerStates.push(last.textContent);
  }).observe(log, { subtree: true, childList: true, characterData: true });
}
"""


class Widget:
    """The widget on a page, through the same controls a visitor uses."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.locator("portfolio-chat .pb-root")
        self.bubble = page.locator("portfolio-chat .pb-bubble")
        self.panel = page.locator("portfolio-chat .pb-panel")
        self.log = page.locator("portfolio-chat .pb-messages")
        self.input = page.locator("portfolio-chat .pb-input")
        self.send_button = page.locator("portfolio-chat .pb-send")
        self.stop_button = page.locator("portfolio-chat .pb-stop")
        self.new_button = page.get_by_role("button", name="New conversation")
        self.notice = page.locator("portfolio-chat .pb-notice")
        self.quota = page.locator("portfolio-chat .pb-quota")
        self.user_messages = page.locator("portfolio-chat .pb-user .pb-text")
        self.answers = page.locator("portfolio-chat .pb-assistant:not(.pb-greeting)")
        self.chips = page.locator("portfolio-chat .pb-tool")

    def open(self) -> Widget:
        self.bubble.click()
        expect(self.panel).to_be_visible()
        return self

    def send(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def wait_idle(self) -> None:
        expect(self.root).not_to_have_class(re.compile(r"\bpb-busy\b"))

    def ask(self, text: str) -> Locator:
        """Send a message and wait for its whole answer; returns the answer's text element."""
        count = self.answers.count()
        self.send(text)
        try:
            expect(self.answers).to_have_count(count + 1)
        except AssertionError as exc:
            shown = self.notice.text_content() if self.notice.is_visible() else "no notice"
            raise AssertionError(f"no answer to {text!r} ({shown})") from exc
        self.wait_idle()
        return self.answers.nth(count).locator(".pb-text")

    def active_element(self) -> str:
        return str(
            self.page.evaluate(
                """() => {
                  const host = document.querySelector("portfolio-chat");
                  const active = host.shadowRoot.activeElement;
                  return active ? active.className : (document.activeElement === host ? "host" : "page");
                }"""
            )
        )


def widget_page(open_page: OpenPage, url: str, **options: Any) -> Widget:
    page = open_page(url, **options)
    expect(page.locator("portfolio-chat .pb-root")).to_be_visible()  # visible once its CSS loaded
    return Widget(page)


def record_requests(page: Page) -> list[tuple[str, str]]:
    """(method, URL) of every request the page makes from now on, across reloads."""
    seen: list[tuple[str, str]] = []
    page.on("request", lambda request: seen.append((request.method, request.url)))
    return seen


def turn_requests(requests: list[tuple[str, str]], method: str) -> list[str]:
    """The URLs of the recorded requests to /stream or /stream/{turn_id} with this method."""
    return [url for made, url in requests if made == method and re.search(r"/stream(/[\w-]+)?(\?|$)", url)]


def session_of(page: Page, api: str) -> str:
    """The session id the widget keeps for the API at `api`."""
    return str(page.evaluate("(key) => localStorage.getItem(key)", f"portfolio-chat:session:{api}"))


def stored_messages(service: ServiceProcess, session_id: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = httpx2.get(f"{service.url}/session/{session_id}").json()["messages"]
    return messages


# --- serving ----------------------------------------------------------------------------------------


def test_assets_are_served_with_content_types_and_cache_validators(demo_service: ServiceProcess) -> None:
    with httpx2.Client(base_url=demo_service.url) as client:
        loader = client.get("/widget.js").text
        modules = re.search(r'var MODULES = "(widget/[0-9a-f]{16}/)";', loader)
        assert modules, "widget.js names its modules by their content hash"
        for path, media_type in [
            ("/widget.js", "text/javascript"),
            ("/widget.css", "text/css"),
            ("/chat", "text/html"),
            (f"/{modules[1]}app.mjs", "text/javascript"),
            (f"/{modules[1]}widget.css", "text/css"),
        ]:
            response = client.get(path)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith(media_type)
            etag = response.headers["etag"]
            revalidated = client.get(path, headers={"If-None-Match": f'W/"other", {etag}'})
            assert revalidated.status_code == 304
            assert revalidated.content == b""
            assert client.head(path).headers["etag"] == etag
        page = client.get("/chat")
        assert 'src="/widget.js"' in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]


def test_modules_are_versioned_immutable_and_loadable_from_any_origin(demo_service: ServiceProcess) -> None:
    with httpx2.Client(base_url=demo_service.url) as client:
        assert client.get("/widget.js").headers["cache-control"] == "public, max-age=300"
        modules = re.search(r'var MODULES = "(widget/[0-9a-f]{16}/)";', client.get("/widget.js").text)
        assert modules
        seen: set[str] = set()
        todo = ["app.mjs"]
        while todo:  # every module app.mjs imports, directly or not, is served
            name = todo.pop()
            seen.add(name)
            response = client.get(f"/{modules[1]}{name}", headers={"Origin": "https://someone.example"})
            assert response.status_code == 200, name
            assert response.headers["content-type"].startswith("text/javascript")
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert response.headers["access-control-allow-origin"] == "*"  # modules load in CORS mode
            todo += [found for found in re.findall(r'from "\./([\w-]+\.mjs)"', response.text) if found not in seen]
        assert {"markdown.mjs", "markdown-stream.mjs", "stream-reader.mjs", "api-client.mjs"} <= seen
        # A page still holding the previous widget.js gets today's files, but only for five minutes.
        stale = client.get("/widget/0123456789abcdef/app.mjs")
        assert stale.status_code == 200
        assert stale.headers["cache-control"] == "public, max-age=300"
        assert client.get(f"/{modules[1]}../settings.py").status_code == 404
        assert client.get(f"/{modules[1]}chat.html").status_code == 404


# --- streaming and tools ----------------------------------------------------------------------------


def test_answer_tokens_appear_incrementally(
    open_page: OpenPage, demo_service: ServiceProcess, screenshot: Screenshot
) -> None:
    widget = widget_page(open_page, f"{demo_service.url}/chat").open()
    widget.page.evaluate(RECORD_ANSWER_STATES)

    answer = widget.ask("Hello there")

    final = answer.text_content() or ""
    assert final.startswith("Hello! I am the offline demo model")
    states: list[str] = widget.page.evaluate("window.__answerStates")
    partial = {state for state in states if state and state != final}
    assert len(partial) >= 2, f"the answer did not grow in steps: {states}"
    assert all(final.startswith(state) for state in partial)
    expect(widget.log).to_have_attribute("aria-live", "polite")
    expect(widget.log).to_have_attribute("aria-busy", "false")
    screenshot(widget.page, "answer")


def test_time_question_shows_a_tool_chip(open_page: OpenPage, demo_service: ServiceProcess) -> None:
    widget = widget_page(open_page, f"{demo_service.url}/chat").open()

    answer = widget.ask("What time is it?")

    chip = widget.answers.last.locator(".pb-tool")
    expect(chip).to_have_attribute("data-tool", "get_current_time")
    expect(chip).to_contain_text("Checked the time")
    expect(answer).to_contain_text("Current time in UTC")
    chip.locator("summary").click()
    expect(chip.locator(".pb-tool-result")).to_contain_text("Current time in UTC")


def test_an_answer_from_the_owners_files_lists_its_sources_and_keeps_them_after_reload(
    open_page: OpenPage, demo_service: ServiceProcess
) -> None:
    widget = widget_page(open_page, f"{demo_service.url}/chat").open()

    answer = widget.ask("What are Alex's rates?")

    expect(answer).to_contain_text("650 EUR")
    sources = widget.answers.last.locator(".pb-sources")
    expect(sources).to_contain_text("Sources")
    expect(sources.locator("li").first).to_have_text("Working with Alex — Availability and rates (services.md)")
    expect(sources.locator("a")).to_have_count(0)  # a file is named, not linked

    widget.page.reload()
    restored = Widget(widget.page)
    expect(restored.answers.last.locator(".pb-sources li").first).to_contain_text("services.md")


def ratings_counted(service: ServiceProcess, rating: str) -> float:
    """How many ratings the service has kept (its Prometheus counter)."""
    metrics = httpx2.get(f"{service.url}/metrics").text
    found = re.search(rf'^portfolio_feedback_total{{rating="{rating}"}} ([0-9.]+)$', metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_feedback_buttons_rate_an_answer_by_keyboard_with_a_comment_and_stay_after_reload(
    open_page: OpenPage, demo_service: ServiceProcess
) -> None:
    widget = widget_page(open_page, f"{demo_service.url}/chat").open()
    downs, ups = ratings_counted(demo_service, "down"), ratings_counted(demo_service, "up")
    answer = widget.answers.nth(widget.answers.count())
    widget.ask("Calculate 15 * 7 + 23")
    good = answer.get_by_role("button", name="Good answer")
    bad = answer.get_by_role("button", name="Bad answer")
    expect(good).to_have_attribute("aria-pressed", "false")
    expect(bad).to_have_attribute("aria-pressed", "false")
    expect(widget.page.locator("portfolio-chat .pb-greeting .pb-feedback")).to_have_count(0)

    bad.focus()
    widget.page.keyboard.press("Enter")
    expect(bad).to_have_attribute("aria-pressed", "true")
    comment = answer.get_by_label("Your comment on this answer (optional)")
    expect(comment).to_be_focused()  # a 👎 opens the comment box for the why
    widget.page.keyboard.type("Show the steps, please.")
    widget.page.keyboard.press("Tab")
    widget.page.keyboard.press("Enter")
    expect(answer.get_by_role("status")).to_have_text("Thanks, your comment was sent.")
    expect(comment).to_be_hidden()
    expect(answer.get_by_role("button", name="Add a comment")).to_be_focused()
    assert ratings_counted(demo_service, "down") == downs + 2

    widget.page.reload()
    restored = Widget(widget.page)
    again = restored.answers.last.get_by_role("button", name="Good answer")
    again.click()
    expect(again).to_have_attribute("aria-pressed", "true")
    expect(restored.answers.last.get_by_role("button", name="Bad answer")).to_have_attribute("aria-pressed", "false")
    expect(restored.answers.last.get_by_role("status")).to_have_text("Thanks for your feedback.")
    assert ratings_counted(demo_service, "up") == ups + 1


def test_citation_markers_become_links_to_the_sources_that_follow_the_answer(
    open_page: OpenPage, scripted_service: ServiceProcess, upstream: ScriptedUpstream
) -> None:
    # the marker is split across chunks, and one names a passage that was never sent
    upstream.script(Reply(chunks=["Alex is based in Lisbon [", "1], works with ", "Python [2, 1] and cats [99]."]))
    widget = widget_page(open_page, f"{scripted_service.url}/chat").open()

    answer = widget.ask("Tell me about Alex")

    expect(answer).to_have_text("Alex is based in Lisbon [1], works with Python [2, 1] and cats [99].")
    cites = answer.locator(".pb-cite")
    expect(cites).to_have_text(["1", "2", "1"])
    sources = widget.answers.last.locator(".pb-sources li")
    expect(sources).to_have_count(2)
    titles = [str(cites.nth(i).get_attribute("title")) for i in range(3)]
    assert titles[0] == titles[2] == sources.nth(0).text_content()
    assert titles[1] == sources.nth(1).text_content()
    cites.first.focus()  # a file's citation says its source to a keyboard and a screen reader too
    expect(cites.first).to_have_attribute("aria-label", f"Source 1: {titles[0]}")

    widget.page.reload()
    expect(Widget(widget.page).answers.last.locator(".pb-cite")).to_have_count(3)  # from the stored sources


def test_data_lines_split_across_reads_are_reassembled(
    open_page: OpenPage, scripted_service: ServiceProcess, upstream: ScriptedUpstream, host_site: HostSite
) -> None:
    upstream.script(Reply(chunks=["Grüße 👋 from ", "the **scripted** ", "upstream — ✓"]))
    url = host_site.page("/rechunk", host_page(f"{scripted_service.url}/widget.js"))
    page = open_page("about:blank")
    page.add_init_script(RECHUNK_STREAM)
    page.goto(url)
    widget = Widget(page).open()

    answer = widget.ask("Say hello")

    expect(answer).to_have_text("Grüße 👋 from the scripted upstream — ✓")
    expect(answer.locator("strong")).to_have_text("scripted")


def test_the_widget_learns_the_prompt_limit_and_tool_labels_from_the_service(
    open_page: OpenPage, scripted_service: ServiceProcess, upstream: ScriptedUpstream
) -> None:
    upstream.script(
        Reply(chunks=[], tool_calls=[ScriptedToolCall("record_unknown_question", '{"question": "Favourite tea?"}')]),
        Reply(chunks=["I passed that on."]),
    )
    widget = widget_page(open_page, f"{scripted_service.url}/chat").open()
    expect(widget.input).to_have_attribute("maxlength", str(SCRIPTED_PROMPT_MAX_CHARS))

    widget.ask("What is Alex's favourite tea?")

    chip = widget.answers.last.locator(".pb-tool")
    expect(chip).to_have_attribute("data-tool", "record_unknown_question")
    expect(chip.locator("summary")).to_have_text("Noted the question for the owner")

    widget.page.reload()  # history's chips take the service's labels too
    expect(Widget(widget.page).chips.last.locator("summary")).to_have_text("Noted the question for the owner")


# Counts the top-level nodes removed from the newest answer's text while it streams.
COUNT_REPLACED_NODES = """
() => {
  const log = document.querySelector("portfolio-chat").shadowRoot.querySelector(".pb-messages");
  window.__replaced = 0;
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.target.classList && record.target.classList.contains("pb-text")) {
        window.__replaced += record.removedNodes.length;
      }
    }
  }).observe(log, { subtree: true, childList: true });
}
"""


def test_each_chunk_appends_to_the_answer_instead_of_rendering_it_again(
    open_page: OpenPage, scripted_service: ServiceProcess, upstream: ScriptedUpstream
) -> None:
    paragraphs = 60
    chunks = [piece for i in range(paragraphs) for piece in (f"Paragraph {i} ", "has **bold** ", "words.\n\n")]
    upstream.script(Reply(chunks=chunks))
    widget = widget_page(open_page, f"{scripted_service.url}/chat").open()
    widget.page.evaluate(COUNT_REPLACED_NODES)

    answer = widget.ask("Write a lot")

    expect(answer.locator("p")).to_have_count(paragraphs)
    expect(answer.locator("strong")).to_have_count(paragraphs)
    expect(answer.locator("p").last).to_have_text(f"Paragraph {paragraphs - 1} has bold words.")
    replaced = widget.page.evaluate("window.__replaced")
    # Only the open paragraph is rendered again per chunk: at most a couple of nodes each time.
    # Rendering the whole answer per chunk would replace about 60 * 61 / 2 * 3 = 5490.
    assert replaced <= 2 * len(chunks), f"{replaced} nodes replaced for {len(chunks)} chunks"


# --- sessions -------------------------------------------------------------------------------------


def test_reload_restores_the_conversation(
    open_page: OpenPage, demo_service: ServiceProcess, screenshot: Screenshot
) -> None:
    widget = widget_page(open_page, f"{demo_service.url}/chat").open()
    widget.ask("What time is it?")
    widget.ask("My name is Ada")
    before = [widget.answers.nth(i).locator(".pb-text").text_content() for i in range(2)]

    widget.page.reload()

    restored = Widget(widget.page)  # it was open: it reopens on the next page of the site
    expect(restored.panel).to_be_visible()
    expect(restored.user_messages).to_have_text(["What time is it?", "My name is Ada"])
    expect(restored.answers).to_have_count(2)  # the tool-call stub is not shown as an empty bubble
    expect(restored.answers.nth(0).locator(".pb-tool")).to_have_attribute("data-tool", "get_current_time")
    expect(restored.answers.locator(".pb-text")).to_have_text([text or "" for text in before])
    screenshot(widget.page, "restored")

    answer = restored.ask("What did I tell you?")  # the restored session is the one the model sees
    expect(answer).to_contain_text("Ada")


def test_new_conversation_starts_a_fresh_session(open_page: OpenPage, demo_service: ServiceProcess) -> None:
    widget = widget_page(open_page, f"{demo_service.url}/chat").open()
    widget.ask("My name is Grace")
    first = widget.page.evaluate("Object.entries(localStorage)")

    widget.new_button.click()

    expect(widget.user_messages).to_have_count(0)
    expect(widget.answers).to_have_count(0)
    assert widget.page.evaluate("Object.entries(localStorage)") == []
    expect(widget.ask("What did I tell you?")).not_to_contain_text("Grace")
    second = widget.page.evaluate("Object.entries(localStorage)")
    assert len(second) == 1
    assert second != first


def test_expired_session_starts_fresh(open_page: OpenPage, demo_service: ServiceProcess, console: ConsoleWatch) -> None:
    console.allow(r"status of 404")  # the browser logs the GET /session/{id} that found nothing
    page = open_page(f"{demo_service.url}/chat")
    key = f"portfolio-chat:session:{demo_service.url}"
    page.evaluate("([key]) => localStorage.setItem(key, '00000000-0000-4000-8000-000000000000')", [key])
    page.reload()
    widget = Widget(page).open()

    expect(widget.page.locator("portfolio-chat .pb-greeting")).to_be_visible()
    expect(widget.notice).to_be_hidden()
    page.wait_for_function("([key]) => localStorage.getItem(key) === null", arg=[key])
    expect(widget.ask("Hello")).to_contain_text("offline demo model")


# --- quota and errors -----------------------------------------------------------------------------


def test_quota_is_shown_and_429_shows_the_local_reset_time(
    open_page: OpenPage, limited_service: ServiceProcess, console: ConsoleWatch, screenshot: Screenshot
) -> None:
    console.allow(r"status of 429")  # the browser logs the refused POST /stream
    widget = widget_page(open_page, f"{limited_service.url}/chat", timezone_id="Asia/Tokyo").open()
    expect(widget.quota).to_have_text("2 of 2 messages left")
    widget.ask("Hello")
    expect(widget.quota).to_have_text("1 of 2 messages left")
    widget.ask("Hello again")
    expect(widget.quota).to_have_text("0 of 2 messages left")

    widget.send("One more, please")

    expect(widget.notice).to_contain_text("You've reached the message limit")
    reset = httpx2.get(f"{limited_service.url}/rate-limit-info").json()["reset"]
    local = widget.page.evaluate(
        "(reset) => new Date(reset * 1000).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'})", reset
    )
    expect(widget.notice).to_contain_text("You can send more messages after")
    expect(widget.notice).to_contain_text(local)
    expect(widget.notice).to_have_attribute("role", "alert")
    expect(widget.input).to_have_value("One more, please")  # the typed text is kept for later
    expect(widget.user_messages).to_have_count(2)
    expect(widget.send_button).to_be_enabled()
    screenshot(widget.page, "quota")


def test_failed_request_shows_the_reason_and_keeps_the_text(
    open_page: OpenPage, scripted_service: ServiceProcess, upstream: ScriptedUpstream, console: ConsoleWatch
) -> None:
    upstream.script(Reply(status=500))
    widget = widget_page(open_page, f"{scripted_service.url}/chat").open()

    widget.send("Will this work?")

    expect(widget.notice).to_be_visible()
    expect(widget.notice).not_to_have_text("")
    widget.wait_idle()
    expect(widget.input).to_have_value("Will this work?")
    expect(widget.user_messages).to_have_count(0)
    console.allow(r"status of 5\d\d")  # if the service refused with a 5xx status, the browser logs it


# --- stop -----------------------------------------------------------------------------------------


def test_stop_asks_the_service_to_stop_and_the_stored_answer_is_the_one_shown(
    open_page: OpenPage,
    scripted_service: ServiceProcess,
    upstream: ScriptedUpstream,
    host_site: HostSite,
    screenshot: Screenshot,
) -> None:
    upstream.script(Reply(chunks=[f"word{i} " for i in range(60)], delay=0.1), Reply(chunks=["Back", " again."]))
    # embedded on another origin: the Stop's DELETE passes CORS, and X-Turn-Id is readable
    url = host_site.page("/stop", host_page(f"{scripted_service.url}/widget.js"))
    widget = widget_page(open_page, url).open()
    requests = record_requests(widget.page)
    widget.send("Count slowly")
    answer = widget.answers.last.locator(".pb-text")
    expect(answer).to_contain_text("word2")
    expect(widget.stop_button).to_be_visible()
    expect(widget.send_button).to_be_hidden()

    widget.stop_button.click()

    expect(widget.stop_button).to_be_hidden()
    stopped_at = answer.text_content() or ""
    assert upstream.disconnected.wait(10), "the service did not close the upstream call"
    assert upstream.completed_streams == 0
    expect(answer).to_have_text(stopped_at)  # nothing more arrives after the upstream call closed
    assert "word59" not in stopped_at
    expect(widget.answers.last.locator(".pb-stopped-note")).to_have_text("Stopped.")
    expect(widget.send_button).to_be_visible()
    expect(widget.send_button).to_be_enabled()
    expect(widget.input).to_be_enabled()
    assert widget.active_element() == "pb-input", "focus should move to the input, not drop to the page"
    screenshot(widget.page, "stopped")
    # Stop is the service's stop route, not a closed connection (which the service would take for
    # a dropped one and keep answering); the answer shown to its end is the one stored, marked
    session_id = session_of(widget.page, scripted_service.url)
    [stop] = turn_requests(requests, "DELETE")
    turn_id = stop.split("/stream/")[1].split("?")[0]
    assert [
        (m["role"], m["content"], m.get("stopped"), m.get("turn_id"))
        for m in stored_messages(scripted_service, session_id)
    ] == [("user", "Count slowly", None, None), ("assistant", stopped_at, True, turn_id)]

    expect(widget.ask("Are you there?")).to_have_text("Back again.")
    widget.page.reload()  # the history shows the stopped answer as stopped
    expect(Widget(widget.page).answers.first.locator(".pb-stopped-note")).to_have_text("Stopped.")


# --- resuming ---------------------------------------------------------------------------------------

# An answer slow enough to lose the connection in the middle of: 40 chunks, 50 ms apart.
SLOW_WORDS = [f"word{i} " for i in range(39)] + ["word39."]
SLOW_ANSWER = "".join(SLOW_WORDS)


def test_a_dropped_connection_resumes_the_same_answer_without_losing_or_repeating_text(
    open_page: OpenPage,
    flaky_network: FlakyNetwork,
    scripted_service: ServiceProcess,
    upstream: ScriptedUpstream,
    host_site: HostSite,
    console: ConsoleWatch,
    screenshot: Screenshot,
) -> None:
    console.allow(r"net::ERR_")  # the browser logs the cut response and the refused reattaches
    upstream.script(Reply(chunks=SLOW_WORDS, delay=0.05))
    # embedded on another origin: the widget can read X-Turn-Id only because the service exposes it
    url = host_site.page("/flaky", host_page(f"{flaky_network.url}/widget.js"))
    widget = widget_page(open_page, url).open()
    widget.page.evaluate(RECORD_ANSWER_STATES)
    requests = record_requests(widget.page)
    widget.send("Count slowly")
    answer = widget.answers.last.locator(".pb-text")
    expect(answer).to_contain_text("word5 ")

    assert flaky_network.down() > 0, "the answer's connection was open"
    expect(widget.notice).to_have_text("Connection lost. Reconnecting…")
    expect(widget.stop_button).to_be_visible()  # the same answer, still running, still stoppable
    screenshot(widget.page, "reconnecting")
    flaky_network.up()

    expect(widget.notice).to_be_hidden()
    expect(answer).to_have_text(SLOW_ANSWER)
    widget.wait_idle()
    assert answer.text_content() == SLOW_ANSWER
    expect(widget.answers).to_have_count(1)
    states = widget.page.evaluate("window.__answerStates")
    assert all(SLOW_ANSWER.startswith(state) for state in states), "at no moment was text repeated"
    reattaches = turn_requests(requests, "GET")
    assert reattaches, "the widget reattached to the running turn"
    after = [int(re.search(r"[?&]after=(\d+)", url)[1]) for url in reattaches]  # type: ignore[index]
    assert min(after) > 0, f"each reattach continues after the last event shown: {reattaches}"
    assert len(upstream.requests) == 1, "the rest came from the running turn, not from asking again"
    session_id = session_of(widget.page, flaky_network.url)
    assert [m["content"] for m in stored_messages(scripted_service, session_id)] == ["Count slowly", SLOW_ANSWER]


def test_a_reload_mid_answer_shows_the_whole_answer_once(
    open_page: OpenPage, scripted_service: ServiceProcess, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply(chunks=["First answer."]), Reply(chunks=SLOW_WORDS, delay=0.05))
    widget = widget_page(open_page, f"{scripted_service.url}/chat").open()
    widget.ask("Hello")
    widget.send("Count slowly")
    expect(widget.answers.last.locator(".pb-text")).to_contain_text("word5 ")
    requests = record_requests(widget.page)

    widget.page.reload()

    restored = Widget(widget.page)
    answer = restored.answers.last.locator(".pb-text")
    expect(answer).to_have_text(SLOW_ANSWER)
    restored.wait_idle()
    assert answer.text_content() == SLOW_ANSWER
    expect(restored.user_messages).to_have_text(["Hello", "Count slowly"])
    expect(restored.answers.locator(".pb-text")).to_have_text(["First answer.", SLOW_ANSWER])
    reattaches = turn_requests(requests, "GET")
    assert len(reattaches) == 1
    assert "after=0" in reattaches[0], "the page lost what it showed: the answer is rebuilt from its first event"
    assert len(upstream.requests) == 2

    requests.clear()
    widget.page.reload()  # the turn has ended: the history alone shows it, once
    again = Widget(widget.page)
    expect(again.answers.locator(".pb-text")).to_have_text(["First answer.", SLOW_ANSWER])
    again.wait_idle()
    assert not turn_requests(requests, "GET")


def test_an_answer_that_ended_while_the_page_was_away_is_shown_once_from_the_history(
    open_page: OpenPage, scripted_service: ServiceProcess, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply(chunks=SLOW_WORDS, delay=0.02))
    url = f"{scripted_service.url}/chat"
    widget = widget_page(open_page, url).open()
    widget.send("Count slowly")
    expect(widget.answers.last.locator(".pb-text")).to_contain_text("word5 ")
    running = json.loads(
        widget.page.evaluate("(key) => sessionStorage.getItem(key)", f"portfolio-chat:turn:{scripted_service.url}")
    )

    widget.page.goto("about:blank")  # the tab is elsewhere while the turn ends
    with httpx2.stream("GET", f"{scripted_service.url}/stream/{running['turnId']}", params={"after": 0}) as response:
        last = [line for line in response.iter_lines() if line][-1]
    assert json.loads(last[6:])["type"] == "end", "the turn ended, so the history holds it"
    requests = record_requests(widget.page)
    widget.page.goto(url)

    restored = Widget(widget.page)
    expect(restored.answers.locator(".pb-text")).to_have_text([SLOW_ANSWER])
    expect(restored.user_messages).to_have_text(["Count slowly"])
    restored.wait_idle()
    assert not turn_requests(requests, "GET"), "nothing to reattach to: it is stored"
    assert widget.page.evaluate("Object.keys(sessionStorage)") == [f"portfolio-chat:open:{scripted_service.url}"]


def test_a_turn_the_service_no_longer_has_says_so_and_gives_the_message_back(
    open_page: OpenPage, scripted_service: ServiceProcess, upstream: ScriptedUpstream, console: ConsoleWatch
) -> None:
    console.allow(r"status of 404")  # the browser logs the reattach that found nothing
    upstream.script(Reply(chunks=["First answer."]))
    widget = widget_page(open_page, f"{scripted_service.url}/chat").open()
    widget.ask("Hello")
    gone = {"turnId": "A" * 22, "sessionId": session_of(widget.page, scripted_service.url), "prompt": "Where were we?"}
    widget.page.evaluate(
        "([key, value]) => sessionStorage.setItem(key, value)",
        [f"portfolio-chat:turn:{scripted_service.url}", json.dumps(gone)],
    )

    widget.page.reload()

    restored = Widget(widget.page)
    expect(restored.notice).to_have_text("The rest of this answer is no longer available. Please ask again.")
    expect(restored.input).to_have_value("Where were we?")
    expect(restored.user_messages).to_have_text(["Hello"])
    restored.wait_idle()
    assert widget.page.evaluate("Object.keys(sessionStorage)") == [f"portfolio-chat:open:{scripted_service.url}"]


# --- safety ---------------------------------------------------------------------------------------


def test_html_in_the_answer_renders_as_text_and_never_runs(
    open_page: OpenPage,
    scripted_service: ServiceProcess,
    upstream: ScriptedUpstream,
    host_site: HostSite,
    screenshot: Screenshot,
) -> None:
    hostile = [
        "Look: <img src=x ",
        'onerror="window.__pwned=1"> and ',
        "<script>window.__pwned=2</script> **bold** ",
        "[bad](javascript:window.__pwned=3) [good](https://example.com/a) ",
        '<a href="javascript:window.__pwned=4" onclick="window.__pwned=5">x</a>',
    ]
    upstream.script(Reply(chunks=hostile))
    # A host page without any Content-Security-Policy: nothing but the renderer stands in the way.
    url = host_site.page("/no-csp", host_page(f"{scripted_service.url}/widget.js"))
    widget = widget_page(open_page, url).open()

    answer = widget.ask("Show me some HTML")

    expect(answer).to_contain_text('Look: <img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script>')
    expect(answer.locator("strong")).to_have_text("bold")
    expect(answer).to_contain_text("bad")
    expect(answer).to_contain_text('<a href="javascript:window.__pwned=4" onclick="window.__pwned=5">x</a>')
    for tag in ("img", "script", "iframe"):
        expect(widget.log.locator(tag)).to_have_count(0)
    links = answer.locator("a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://example.com/a")
    expect(links).to_have_attribute("rel", "noopener noreferrer")
    expect(links).to_have_attribute("target", "_blank")
    assert widget.page.evaluate("window.__pwned") is None
    screenshot(widget.page, "escaped")

    widget.page.reload()  # the same text restored from the session history is just as inert
    restored = Widget(widget.page)
    expect(restored.answers.last.locator(".pb-text")).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(restored.log.locator("img")).to_have_count(0)
    assert widget.page.evaluate("window.__pwned") is None


def test_markdown_renderer_builds_only_safe_nodes(open_page: OpenPage, demo_service: ServiceProcess) -> None:
    """The DOM built in the browser is the one the Node tests check as trees (markdown-subset.json)."""
    case = json.loads(MARKDOWN_SUBSET.read_text())
    page = widget_page(open_page, f"{demo_service.url}/chat").page
    page.evaluate("async () => { await window.PortfolioChat.ready; }")
    html = page.evaluate(
        """(source) => {
          const target = document.createElement("div");
          window.PortfolioChat.renderMarkdown(source, target);
          return target.innerHTML;
        }""",
        case["source"],
    )
    assert html == case["html"]


# --- accessibility and layout ---------------------------------------------------------------------


def test_keyboard_only_use_and_focus_handling(open_page: OpenPage, demo_service: ServiceProcess) -> None:
    widget = widget_page(open_page, f"{demo_service.url}/chat")
    widget.bubble.focus()
    widget.page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    expect(widget.bubble).to_have_attribute("aria-expanded", "true")
    assert widget.active_element() == "pb-input", "focus moves into the panel on open"

    widget.page.keyboard.type("line one")
    widget.page.keyboard.press("Shift+Enter")
    widget.page.keyboard.type("line two")
    expect(widget.input).to_have_value("line one\nline two")
    expect(widget.user_messages).to_have_count(0)
    widget.page.keyboard.press("Enter")
    expect(widget.user_messages).to_have_text(["line one\nline two"])
    expect(widget.answers).to_have_count(1)
    widget.wait_idle()

    widget.page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    expect(widget.bubble).to_have_attribute("aria-expanded", "false")
    assert widget.active_element() == "pb-bubble", "focus returns to the bubble on close"

    unnamed = widget.page.evaluate(
        """() => [...document.querySelector("portfolio-chat").shadowRoot.querySelectorAll("button")]
             .filter((button) => !(button.getAttribute("aria-label") || button.textContent.trim()))
             .map((button) => button.className)"""
    )
    assert unnamed == []
    expect(widget.page.get_by_label("Your message")).to_have_count(1)


def test_narrow_screen_dark_mode_and_reduced_motion(
    open_page: OpenPage, demo_service: ServiceProcess, screenshot: Screenshot
) -> None:
    widget = widget_page(
        open_page,
        f"{demo_service.url}/chat",
        viewport={"width": 360, "height": 740},
        color_scheme="dark",
        reduced_motion="reduce",
        has_touch=True,
    ).open()
    widget.ask("What time is it?")

    box = widget.panel.bounding_box()
    assert box == {"x": 0, "y": 0, "width": 360, "height": 740}, "the panel fills a narrow screen"
    assert widget.page.evaluate("document.documentElement.scrollWidth") <= 360
    style = widget.panel.evaluate(
        "(panel) => { const s = getComputedStyle(panel); return [s.backgroundColor, s.animationName]; }"
    )
    assert style == ["rgb(17, 24, 39)", "none"]
    send_box = widget.send_button.bounding_box()
    assert send_box is not None
    assert send_box["x"] + send_box["width"] <= 360
    screenshot(widget.page, "narrow-dark")

    widget.page.get_by_role("button", name="Close chat", exact=True).click()
    expect(widget.panel).to_be_hidden()
    expect(widget.bubble).to_be_visible()


def test_host_page_css_does_not_reach_the_widget_and_options_apply(
    open_page: OpenPage, demo_service: ServiceProcess, host_site: HostSite, screenshot: Screenshot
) -> None:
    hostile = """
      * { font-family: "Comic Sans MS", serif !important; color: red !important; letter-spacing: 4px; }
      body { font-size: 30px; line-height: 3; text-transform: uppercase; }
      button { width: 300px !important; padding: 40px !important; background: red !important; }
      div, p, section, textarea { display: block; margin: 50px; border: 5px dashed red; }
    """
    url = host_site.page(
        "/hostile",
        host_page(
            f"{demo_service.url}/widget.js",
            style=hostile,
            attributes='data-title="Ask Sam" data-greeting="Hi from **Sam\'s** site" '
            'data-accent="#ffcc00" data-position="left"',
        ),
    )
    widget = widget_page(open_page, url)
    bubble = widget.bubble.bounding_box()
    assert bubble is not None
    assert (bubble["width"], bubble["height"]) == (56, 56)
    assert bubble["x"] < 100, "data-position=left puts the bubble on the left"
    colours = widget.bubble.evaluate("(b) => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]")
    assert colours == ["rgb(255, 204, 0)", "rgb(17, 24, 39)"], "accent, with dark text on a light accent"

    widget.open()
    expect(widget.page.locator("portfolio-chat .pb-title")).to_have_text("Ask Sam")
    greeting = widget.page.locator("portfolio-chat .pb-greeting .pb-text")
    expect(greeting.locator("strong")).to_have_text("Sam's")
    text_style = greeting.evaluate(
        "(node) => { const s = getComputedStyle(node);"
        " return [s.fontSize, s.color, s.textTransform, s.letterSpacing]; }"
    )
    assert text_style == ["15px", "rgb(17, 24, 39)", "none", "normal"]
    assert "serif" not in greeting.evaluate("(node) => getComputedStyle(node).fontFamily").split(",")[0]
    # the API is the script's own origin by default: a cross-origin call that CORS_ORIGINS allows
    expect(widget.ask("What is 6 * 7?")).to_contain_text("42")
    screenshot(widget.page, "hostile-host")


def test_demo_page_has_no_console_errors(
    open_page: OpenPage, demo_service: ServiceProcess, console: ConsoleWatch, screenshot: Screenshot
) -> None:
    widget = widget_page(open_page, f"{demo_service.url}/chat").open()
    widget.ask("What time is it?")
    widget.ask("Calculate 15 * 7 + 23")
    widget.new_button.click()
    widget.page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    screenshot(widget.page, "demo-page")
    assert console.errors == []  # under the page's strict Content-Security-Policy, too
