"""Documents: the owner's files and pages turned into titled text with Markdown headings.

Each format has one extractor. HTML goes through trafilatura, which keeps the main content and
drops navigation, scripts, footers and other boilerplate; PDFs through pypdf (pure Python, no
native library). Extractors are plain functions: the caller runs them off the event loop.
A source that cannot be read raises `UnreadableSource` with a reason fit for the owner's eyes.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from ..errors import PortfolioError

log = logging.getLogger(__name__)


class Media(StrEnum):
    MARKDOWN = "markdown"
    TEXT = "text"
    HTML = "html"
    PDF = "pdf"


SUFFIXES: dict[str, Media] = {
    ".md": Media.MARKDOWN,
    ".markdown": Media.MARKDOWN,
    ".txt": Media.TEXT,
    ".text": Media.TEXT,
    ".html": Media.HTML,
    ".htm": Media.HTML,
    ".pdf": Media.PDF,
}


class UnreadableSource(PortfolioError):
    """A file or page that yields no text; the message says why, for GET /admin/knowledge."""


@dataclass(frozen=True, slots=True)
class RawSource:
    """The bytes of one source as read or fetched. `name` is a URL or a path relative to the directory."""

    name: str
    is_url: bool
    media: Media
    data: bytes


@dataclass(frozen=True, slots=True)
class Document:
    """A source's text: Markdown-style `#` headings mark sections; `pages` (PDF only) split it by page."""

    name: str
    is_url: bool
    title: str
    text: str
    pages: tuple[str, ...] = ()


def media_for(name: str, content_type: str | None = None) -> Media | None:
    """The format of a file (by suffix) or a page (by Content-Type, then suffix)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml"):
        return Media.HTML
    if kind == "application/pdf":
        return Media.PDF
    if kind in ("text/markdown", "text/x-markdown"):
        return Media.MARKDOWN
    if kind == "text/plain":
        return Media.MARKDOWN if PurePosixPath(name).suffix.lower() in (".md", ".markdown") else Media.TEXT
    return SUFFIXES.get(PurePosixPath(name.split("?")[0]).suffix.lower())


def extract(source: RawSource) -> Document:
    """The text of one source, by its format. Raises UnreadableSource."""
    if source.media is Media.PDF:
        title, pages = _pdf(source.data)
        text = "\n\n".join(pages)
        return Document(source.name, source.is_url, title or _title_from_name(source.name), text, tuple(pages))
    if source.media is Media.HTML:
        title, text = _html(source.data)
    else:
        text = _decode(source.data)
        title = ""
        if source.media is Media.MARKDOWN:
            title, text = _front_matter(text)
            first = re.search(r"^#\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
            title = title or (first.group(1) if first else "")
    if not text.strip():
        raise UnreadableSource("no readable text")
    return Document(source.name, source.is_url, title or _title_from_name(source.name), text)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _front_matter(text: str) -> tuple[str, str]:
    """A YAML front matter block's `title`, and the text without the block."""
    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n", text, re.DOTALL)
    if not match:
        return "", text
    title = re.search(r"^title:\s*[\"']?(.*?)[\"']?\s*$", match.group(1), re.MULTILINE)
    return (title.group(1) if title else ""), text[match.end() :]


def _title_from_name(name: str) -> str:
    stem = PurePosixPath(name.rstrip("/").split("?")[0]).stem or name
    return re.sub(r"[-_]+", " ", stem).strip().capitalize() or name


def _html(data: bytes) -> tuple[str, str]:
    import trafilatura  # imported on first use: about a second of imports, paid only when there is HTML

    markdown = trafilatura.extract(
        data,
        output_format="markdown",
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        favor_recall=True,
    )
    if not markdown:
        raise UnreadableSource("no main content found in the HTML")
    return _front_matter(markdown)


def _pdf(data: bytes) -> tuple[str, list[str]]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableSource("the PDF is password-protected")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        info = reader.metadata
        title = str(info.title).strip() if info is not None and info.title else ""
    except UnreadableSource:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise UnreadableSource(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})") from exc
    if not any(pages):
        raise UnreadableSource("the PDF holds no text (a scanned PDF needs OCR first)")
    return title, pages
