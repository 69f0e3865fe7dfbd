"""Where knowledge comes from: files under KNOWLEDGE_DIR and the owner's pages on the web.

Both are bounded. A file over the size cap is refused unread. Pages are fetched with the app's
async HTTP client: at most `max_pages`, each at most `max_bytes` (checked while streaming, so a
huge page is cut off, not downloaded), all within `deadline` seconds. Pages listed in a sitemap
must be on the sitemap's own host, and redirects never leave the host that was asked. Anything
that cannot be read becomes a `SourceFailure` for the owner to see; nothing here raises for one bad
source.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx2

from .documents import Media, RawSource, media_for

log = logging.getLogger(__name__)

_LOC = re.compile(r"<loc>\s*(.*?)\s*</loc>", re.IGNORECASE | re.DOTALL)
_MAX_REDIRECTS = 3
_CONCURRENT_FETCHES = 4


@dataclass(frozen=True, slots=True)
class SourceFailure:
    """A source that was not used, and why, in words for the owner."""

    name: str
    reason: str

    def public(self) -> dict[str, str]:
        return {"source": self.name, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class FetchBounds:
    max_pages: int = 50
    max_bytes: int = 5_000_000
    deadline: float = 20.0  # seconds for all pages together
    user_agent: str = "PortfolioBackend knowledge loader"


def read_directory(root: Path, max_bytes: int) -> tuple[list[RawSource], list[SourceFailure]]:
    """Every supported file under `root` (sorted, hidden files skipped). Blocking: run it in a thread."""
    sources: list[RawSource] = []
    failures: list[SourceFailure] = []
    if not root.is_dir():
        return sources, failures
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in path.relative_to(root).parts) or not path.is_file():
            continue
        media = media_for(relative)
        if media is None:
            failures.append(SourceFailure(relative, "not a supported file type (Markdown, text, HTML or PDF)"))
            continue
        try:
            size = path.stat().st_size
            if size > max_bytes:
                failures.append(SourceFailure(relative, f"larger than the {max_bytes}-byte cap ({size} bytes)"))
                continue
            data = path.read_bytes()
        except OSError as exc:
            failures.append(SourceFailure(relative, f"cannot be read ({exc.strerror or exc})"))
            continue
        if len(data) > max_bytes:  # grew between stat and read
            failures.append(SourceFailure(relative, f"larger than the {max_bytes}-byte cap"))
            continue
        sources.append(RawSource(relative, False, media, data))
    return sources, failures


async def fetch_pages(
    http: httpx2.AsyncClient,
    urls: list[str],
    sitemap: str | None,
    bounds: FetchBounds,
) -> tuple[list[RawSource], list[SourceFailure]]:
    """The owner's pages: `urls` plus the sitemap's same-host pages, bounded in count, size and time."""
    failures: list[SourceFailure] = []
    wanted = list(dict.fromkeys(urls))
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + bounds.deadline  # one deadline for the sitemap and every page
    try:
        async with asyncio.timeout(bounds.deadline):
            if sitemap:
                listed, sitemap_failures = await _sitemap_pages(http, sitemap, bounds)
                failures += sitemap_failures
                wanted += [url for url in listed if url not in wanted]
    except TimeoutError:
        failures.append(SourceFailure(sitemap or "", f"sitemap not read within {bounds.deadline:g} s"))
    if len(wanted) > bounds.max_pages:
        failures += [SourceFailure(url, f"over the {bounds.max_pages}-page cap") for url in wanted[bounds.max_pages :]]
        wanted = wanted[: bounds.max_pages]

    results: dict[str, RawSource | SourceFailure] = {}
    gate = asyncio.Semaphore(_CONCURRENT_FETCHES)

    async def one(url: str) -> None:
        async with gate:
            results[url] = await _page(http, url, bounds)

    tasks = [asyncio.create_task(one(url)) for url in wanted]
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=max(0.0, ends_at - loop.time()))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    sources: list[RawSource] = []
    for url in wanted:
        result = results.get(url) or SourceFailure(url, f"not fetched within {bounds.deadline:g} s")
        if isinstance(result, SourceFailure):
            failures.append(result)
        else:
            sources.append(result)
    return sources, failures


async def _sitemap_pages(
    http: httpx2.AsyncClient, sitemap: str, bounds: FetchBounds
) -> tuple[list[str], list[SourceFailure]]:
    """Page URLs of a sitemap (or of a sitemap index, one level deep) on the sitemap's own host."""
    host = urlsplit(sitemap).netloc.lower()
    pages: list[str] = []
    failures: list[SourceFailure] = []
    queue, seen = [sitemap], set[str]()
    while queue and len(pages) < bounds.max_pages * 2 and len(seen) < 10:
        current = queue.pop(0)
        seen.add(current)
        try:
            body, _ = await _get(http, current, bounds)
        except _FetchFailed as exc:
            failures.append(SourceFailure(current, exc.reason))
            continue
        text = body.decode("utf-8", "replace")
        is_index = "<sitemapindex" in text[:2000].lower()
        for loc in _LOC.findall(text):
            url = html.unescape(loc)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.netloc.lower() != host:
                failures.append(SourceFailure(url, "not on the sitemap's host; skipped"))
            elif is_index:
                if url not in seen:
                    queue.append(url)
            elif url not in pages:
                pages.append(url)
    return pages, failures


async def _page(http: httpx2.AsyncClient, url: str, bounds: FetchBounds) -> RawSource | SourceFailure:
    try:
        body, content_type = await _get(http, url, bounds)
    except _FetchFailed as exc:
        log.warning("knowledge page %s not used: %s", url, exc.reason)
        return SourceFailure(url, exc.reason)
    media = media_for(url, content_type)
    if media is None:
        kind = content_type.split(";")[0].strip().lower()
        if kind and kind != "application/octet-stream":
            return SourceFailure(url, f"unsupported content type {kind!r}")
        media = Media.HTML  # no type and no known suffix: a web page
    return RawSource(url, True, media, body)


class _FetchFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _get(http: httpx2.AsyncClient, url: str, bounds: FetchBounds) -> tuple[bytes, str]:
    """The body and Content-Type of `url`, following at most 3 redirects on the same host."""
    host = urlsplit(url).netloc.lower()
    headers = {"User-Agent": bounds.user_agent, "Accept": "text/html,application/pdf,text/plain;q=0.8,*/*;q=0.5"}
    for _ in range(_MAX_REDIRECTS + 1):
        if urlsplit(url).scheme not in ("http", "https"):
            raise _FetchFailed("not an http(s) URL")
        try:
            async with http.stream("GET", url, headers=headers, follow_redirects=False) as response:
                if response.is_redirect:
                    target = urljoin(url, response.headers.get("location", ""))
                    if urlsplit(target).netloc.lower() != host:
                        raise _FetchFailed(f"redirects to another host ({urlsplit(target).netloc})")
                    url = target
                    continue
                if response.status_code != 200:
                    raise _FetchFailed(f"HTTP status {response.status_code}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > bounds.max_bytes:
                    raise _FetchFailed(f"larger than the {bounds.max_bytes}-byte cap ({declared} bytes)")
                body = bytearray()
                async for piece in response.aiter_bytes():
                    body += piece
                    if len(body) > bounds.max_bytes:
                        raise _FetchFailed(f"larger than the {bounds.max_bytes}-byte cap")
                return bytes(body), response.headers.get("content-type", "")
        except httpx2.HTTPError as exc:
            raise _FetchFailed(f"cannot be fetched ({type(exc).__name__})") from exc
    raise _FetchFailed("too many redirects")
