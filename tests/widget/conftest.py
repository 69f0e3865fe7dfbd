"""Fixtures for the widget tests: the service as a real process, a host site on another origin, Chromium.

The service runs as `python main.py` (what an owner runs), once per configuration the tests need:
the offline demo model, the scripted upstream, and a 2-a-day quota for the 429 test. The browser is
Debian's /usr/bin/chromium driven by Playwright; Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, expect, sync_playwright

from ..fixtures.processes import free_port
from ..fixtures.service import ServiceProcess
from ..fixtures.upstream import ScriptedUpstream

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "widget"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCRIPTED_PROMPT_MAX_CHARS = 1234
PRIVACY_PATH = "/privacy"  # the demo service's PRIVACY_URL, on the stand-in host site


class HostSite:
    """A stand-in for the owner's site, on its own origin: serves the pages a test registers."""

    def __init__(self) -> None:
        pages: dict[str, bytes] = {}
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body or b"not found")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="host-site", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def page(self, path: str, html: str) -> str:
        self.pages[path] = html.encode()
        return self.origin + path


def host_page(script_src: str, *, attributes: str = "", style: str = "", body: str = "") -> str:
    """An owner's page: its own (possibly hostile) CSS, and the one script tag."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host site</title><link rel="icon" href="data:,"><style>{style}</style></head>
<body><h1>Someone's portfolio</h1><p>Welcome.</p>{body}
<script src="{script_src}" defer {attributes}></script></body></html>"""


class FlakyNetwork:
    """The visitor's network between the browser and the service: a TCP relay a test can take down.

    `down()` closes every open connection at once, as a phone that walks into a lift loses them
    (the browser sees a streaming response end mid-body), and refuses new ones until `up()`.
    """

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.is_up = True
        self.thread = threading.Thread(target=self._accept, name="flaky-network", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if not self.is_up:
                client.close()
                continue
            service = socket.create_connection(self.target)
            with self.lock:
                self.connections |= {client, service}
            for source, sink in ((client, service), (service, client)):
                threading.Thread(target=self._relay, args=(source, sink), daemon=True).start()

    def _relay(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        self._close(source, sink)  # one side ended: so does the connection

    def _close(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with self.lock:
                self.connections.discard(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def down(self) -> int:
        """Drop every open connection and refuse new ones; returns how many sockets were open."""
        self.is_up = False
        with self.lock:
            open_now = list(self.connections)
        self._close(*open_now)
        return len(open_now)

    def up(self) -> None:
        self.is_up = True

    def close(self) -> None:
        self.listener.close()
        self.down()


@pytest.fixture
def flaky_network(scripted_service: ServiceProcess) -> Iterator[FlakyNetwork]:
    """The scripted service behind a network a test can take down (`FlakyNetwork`)."""
    network = FlakyNetwork(scripted_service.port)
    yield network
    network.close()


@pytest.fixture(scope="session")
def host_site() -> Iterator[HostSite]:
    site = HostSite()
    site.thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture(scope="session")
def service_for(
    tmp_path_factory: pytest.TempPathFactory, host_site: HostSite
) -> Iterator[Callable[..., ServiceProcess]]:
    """`service_for(NAME=value, ...)`: a started service with those settings, stopped after the session."""
    started: list[ServiceProcess] = []

    def start(**env: str) -> ServiceProcess:
        defaults = {
            "GLOBAL_DAILY_REQUESTS": "0",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT": "1000/day",
            "SESSION_CREATE_LIMIT": "1000/hour",
            "MAX_OPEN_STREAMS_PER_VISITOR": "20",
            "CORS_ORIGINS": host_site.origin,
            "DEMO_WORD_DELAY": "0.03",  # the demo model's word-by-word pace, so growth is observable
        }
        settings = {**defaults, **env}
        service = ServiceProcess("service", tmp_path_factory.mktemp("service"), settings).start().wait_ready()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture(scope="session")
def demo_service(service_for: Callable[..., ServiceProcess], host_site: HostSite) -> ServiceProcess:
    """The service with the offline demo model, as `uv run python main.py` runs it with no key, and
    the owner's privacy policy on their site (PRIVACY_URL)."""
    return service_for(PRIVACY_URL=host_site.origin + PRIVACY_PATH)


@pytest.fixture(scope="session")
def scripted_service(service_for: Callable[..., ServiceProcess], upstream_server: ScriptedUpstream) -> ServiceProcess:
    """The service talking to the scripted OpenAI-compatible upstream, for replies a test dictates.

    Its prompt limit is not the default, and its lead tools are on (their webhook refuses, so a lead
    is stored without the notification): the widget must learn both from the service.
    """
    return service_for(
        OPENAI_API_KEY="sk-test-widget",
        OPENAI_BASE_URL=upstream_server.base_url,
        OPENAI_MAX_RETRIES="0",
        PROMPT_MAX_CHARS=str(SCRIPTED_PROMPT_MAX_CHARS),
        NOTIFY_WEBHOOK_URL=f"http://127.0.0.1:{free_port()}/nobody-listens",
    )


@pytest.fixture(scope="session")
def limited_service(service_for: Callable[..., ServiceProcess]) -> ServiceProcess:
    """The demo service with a quota of two messages a day."""
    return service_for(RATE_LIMIT="2/day")


# --- the browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class ConsoleWatch:
    """Console errors and uncaught exceptions of a page; a test may allow the ones it provokes."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []

    def on_message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"pageerror: {error}")

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [error for error in self.errors if not any(pattern.search(error) for pattern in self.allowed)]


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture
def open_page(browser: Browser, console: ConsoleWatch) -> Iterator[Callable[..., Page]]:
    """`open_page(url, **context_options)`: a fresh context (fresh localStorage) whose console is watched.

    Every test fails if its pages logged a console error or threw, unless it allowed that message.
    """
    contexts: list[BrowserContext] = []

    def open_(url: str, **options: Any) -> Page:
        context = browser.new_context(**{"viewport": {"width": 1200, "height": 800}, **options})
        contexts.append(context)
        page = context.new_page()
        page.on("console", console.on_message)
        page.on("pageerror", console.on_page_error)
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert console.unexpected() == [], "the page logged errors"


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], None]:
    """`screenshot(page, "name")` saves artifacts/widget/<test>-<name>.png."""

    def save(page: Page, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}.png"))

    return save
