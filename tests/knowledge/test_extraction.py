"""Each format's text, titles and heading paths; unreadable and oversized files are listed, not fatal."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from portfolio_backend.knowledge.documents import Media, RawSource, UnreadableSource, extract
from portfolio_backend.knowledge.passages import split

from .conftest import OpenKnowledge, write_files

PAGE_WITH_BOILERPLATE = """<!doctype html>
<html><head><title>Projects | Alex Doe</title>
<script>window.analytics = "track-every-visitor";</script>
<style>nav { color: red }</style></head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/projects">Projects</a></li>
<li><a href="/contact">Contact me today</a></li></ul></nav></header>
<main><article>
<h1>Projects</h1>
<p>Alex built Ledgerline, an invoicing backend in FastAPI for small design agencies. It sends recurring
invoices and chases late payments by email.</p>
<h2>Tidewater</h2>
<p>Tidewater is a data pipeline that cleans tide-gauge readings for a coastal research group, written in
Python with Polars and DuckDB.</p>
</article></main>
<footer><p>Copyright 2026 Alex Doe. All rights reserved. Subscribe to the newsletter.</p></footer>
</body></html>"""


def make_pdf(pages: list[str], title: str = "Résumé of Alex Doe") -> bytes:
    """A real PDF with one text page per item, written by fpdf2."""
    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def test_markdown_passages_keep_title_and_heading_path() -> None:
    text = "# About Alex\n\nIntro line.\n\n## Work\n\n### Clients\n\nAgencies and labs.\n\n## Skills\n\nPython.\n"
    document = extract(RawSource("notes/about.md", False, Media.MARKDOWN, text.encode()))
    passages = split(document)
    assert document.title == "About Alex"
    assert [(p.headings, p.text) for p in passages] == [
        ((), "Intro line."),
        (("Work", "Clients"), "Agencies and labs."),
        (("Skills",), "Python."),
    ]
    assert {p.source for p in passages} == {"notes/about.md"}


def test_plain_text_is_titled_from_its_file_name() -> None:
    document = extract(RawSource("open-source_work.txt", False, Media.TEXT, b"Maintains rankeval.\n"))
    assert document.title == "Open source work"
    assert [p.text for p in split(document)] == ["Maintains rankeval."]


def test_html_keeps_the_main_content_and_drops_navigation_scripts_and_footer() -> None:
    document = extract(RawSource("https://alex.example/projects", True, Media.HTML, PAGE_WITH_BOILERPLATE.encode()))
    passages = split(document)
    everything = " ".join(p.text for p in passages)
    assert "Ledgerline" in everything
    assert "Polars and DuckDB" in everything
    for boilerplate in ("Contact me today", "track-every-visitor", "All rights reserved", "color: red"):
        assert boilerplate not in everything
    assert any(p.headings == ("Tidewater",) for p in passages)
    assert document.title.startswith("Projects")


def test_pdf_text_is_read_page_by_page() -> None:
    data = make_pdf(["Alex Doe, software engineer.", "Experience: Fieldnote, shipment-tracking API, 2017-2021."])
    document = extract(RawSource("resume.pdf", False, Media.PDF, data))
    passages = split(document)
    assert document.title == "Résumé of Alex Doe"
    assert [p.headings for p in passages] == [("Page 1",), ("Page 2",)]
    assert "shipment-tracking API" in passages[1].text


def test_a_damaged_pdf_is_unreadable_not_a_crash() -> None:
    data = make_pdf(["Alex Doe"])[:200]
    with pytest.raises(UnreadableSource, match="PDF"):
        extract(RawSource("resume.pdf", False, Media.PDF, data))


async def test_unreadable_oversized_and_unknown_files_are_listed_and_the_rest_is_served(
    tmp_path: Path, open_knowledge: OpenKnowledge
) -> None:
    directory = write_files(
        tmp_path / "knowledge",
        {
            "about.md": "# About\n\nAlex lives in Lisbon.\n",
            "broken.pdf": b"%PDF-1.7\nthis is not really a PDF\n",
            "huge.txt": "x" * 5000,
            "photo.jpg": b"\xff\xd8\xff",
            ".draft.md": "# Hidden\n\nNot for visitors.\n",
        },
    )
    async with open_knowledge(directory, max_file_bytes=4096) as knowledge:
        status = knowledge.status()
        reasons = {failure["source"]: failure["reason"] for failure in status["failures"]}
        assert set(reasons) == {"broken.pdf", "huge.txt", "photo.jpg"}
        assert "PDF" in reasons["broken.pdf"]
        assert "4096-byte cap" in reasons["huge.txt"]
        assert [d["source"] for d in status["documents"]] == ["about.md"]
        found = await knowledge.search("Where does Alex live?", 3)
        assert [p.source for p in found] == ["about.md"]
