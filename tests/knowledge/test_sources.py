"""The owner's pages: a sitemap served over loopback, bounded in host, count and size."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from portfolio_backend.knowledge import FetchBounds

from ..fixtures.fake_http import Answer, FakeHTTP, closed_port_url
from .conftest import OpenKnowledge
from .test_extraction import PAGE_WITH_BOILERPLATE, make_pdf


@pytest.fixture
async def site() -> AsyncIterator[FakeHTTP]:
    server = await FakeHTTP().start()
    yield server
    await server.close()


def sitemap(*urls: str) -> bytes:
    entries = "".join(f"<url><loc>{url}</loc></url>" for url in urls)
    return (
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode()
    )


def page(html: str) -> Answer:
    return Answer(raw=html.encode(), content_type="text/html; charset=utf-8")


async def test_sitemap_pages_on_the_same_host_are_fetched_and_extracted(
    site: FakeHTTP, tmp_path: Path, open_knowledge: OpenKnowledge
) -> None:
    other_host = site.base_url.replace("127.0.0.1", "localhost")
    site.on(
        "GET",
        "/sitemap.xml",
        Answer(
            raw=sitemap(site.url("/projects"), site.url("/cv.pdf"), site.url("/gone"), other_host + "/elsewhere"),
            content_type="application/xml",
        ),
    )
    site.on("GET", "/projects", page(PAGE_WITH_BOILERPLATE))
    site.on("GET", "/cv.pdf", Answer(raw=make_pdf(["Alex Doe. Nine years of Python."]), content_type="application/pdf"))
    site.on("GET", "/gone", Answer(404, {"error": "not found"}))
    async with open_knowledge(None, sitemap=site.url("/sitemap.xml")) as knowledge:
        status = knowledge.status()
        assert {d["source"] for d in status["documents"]} == {site.url("/projects"), site.url("/cv.pdf")}
        reasons = {f["source"]: f["reason"] for f in status["failures"]}
        assert reasons[site.url("/gone")] == "HTTP status 404"
        assert "host" in reasons[other_host + "/elsewhere"]
        assert not site.received("GET", "/elsewhere")
        found = await knowledge.search("Tidewater tide-gauge pipeline", 1)
        assert found[0].source == site.url("/projects")
        assert found[0].is_url
        assert "Contact me today" not in " ".join(p.text for p in knowledge.snapshot.passages)


async def test_pages_are_bounded_in_count_and_size_and_redirects_stay_on_the_host(
    site: FakeHTTP, tmp_path: Path, open_knowledge: OpenKnowledge
) -> None:
    site.on("GET", "/a", page("<html><body><main><p>" + "Alex builds backends. " * 20 + "</p></main></body></html>"))
    site.on("GET", "/big", page("<html><body><p>" + "x" * 50_000 + "</p></body></html>"))
    site.on("GET", "/moved", Answer(301, {}, headers={"Location": "https://evil.example/phish"}))
    site.on("GET", "/c", page("<html><body><p>never fetched</p></body></html>"))
    urls = (site.url("/a"), site.url("/big"), site.url("/moved"), site.url("/c"))
    async with open_knowledge(None, urls=urls, fetch=FetchBounds(max_pages=3, max_bytes=10_000)) as knowledge:
        reasons = {f["source"]: f["reason"] for f in knowledge.status()["failures"]}
        assert [d["source"] for d in knowledge.status()["documents"]] == [site.url("/a")]
        assert "10000-byte cap" in reasons[site.url("/big")]
        assert "another host" in reasons[site.url("/moved")]
        assert "3-page cap" in reasons[site.url("/c")]
        assert not site.received("GET", "/c")


async def test_a_site_that_is_down_leaves_the_files_served(tmp_path: Path, open_knowledge: OpenKnowledge) -> None:
    directory = tmp_path / "k"
    directory.mkdir()
    (directory / "about.md").write_text("# About\n\nAlex lives in Lisbon.\n")
    async with open_knowledge(directory, urls=(closed_port_url() + "/about",)) as knowledge:
        assert [f["reason"] for f in knowledge.status()["failures"]] == ["cannot be fetched (ConnectError)"]
        assert knowledge.available


async def test_a_page_that_never_answers_is_cut_off_at_the_deadline(
    site: FakeHTTP, tmp_path: Path, open_knowledge: OpenKnowledge
) -> None:
    site.on("GET", "/fast", page("<html><body><main><p>" + "Alex answers quickly. " * 10 + "</p></main></body></html>"))
    site.on("GET", "/stuck", Answer(hold=True))
    urls = (site.url("/fast"), site.url("/stuck"))
    async with open_knowledge(None, urls=urls, fetch=FetchBounds(deadline=0.5)) as knowledge:
        reasons = {f["source"]: f["reason"] for f in knowledge.status()["failures"]}
        assert reasons == {site.url("/stuck"): "not fetched within 0.5 s"}
        assert [d["source"] for d in knowledge.status()["documents"]] == [site.url("/fast")]
