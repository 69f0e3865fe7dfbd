"""Passages: documents cut into pieces small enough to rank and to quote, each keeping its place.

A passage keeps its document's title, the path of headings above it and its source, so a model
(and a visitor) can tell where it came from. A heading starts a new passage; paragraphs under one
heading are packed up to `TARGET_CHARS`; a paragraph longer than `MAX_CHARS` is cut at sentences.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .documents import Document

# About 200 tokens: small enough that several fit a turn's budget, large enough to hold an answer.
TARGET_CHARS = 800
MAX_CHARS = 1200

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True, slots=True)
class Passage:
    """One piece of the owner's knowledge. `source` is a URL or a file path; `headings` the section path."""

    source: str
    is_url: bool
    title: str
    headings: tuple[str, ...]
    text: str
    position: int = 0

    @property
    def section(self) -> str:
        return " > ".join(self.headings)

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def tokens(self) -> int:
        """An estimate of its size in model tokens: about 4 characters per token in English."""
        return estimate_tokens(self.text) + estimate_tokens(self.title + self.section + self.source) + 12


def estimate_tokens(text: str) -> int:
    return (len(text) + 3) // 4


def split(document: Document) -> list[Passage]:
    """The passages of one document, in reading order."""
    sections: list[tuple[tuple[str, ...], str]]
    if document.pages:
        sections = [((f"Page {number}",), page) for number, page in enumerate(document.pages, 1) if page.strip()]
    else:
        sections = _sections(document)
    passages: list[Passage] = []
    for headings, body in sections:
        for text in _pack(_paragraphs(body)):
            passages.append(Passage(document.name, document.is_url, document.title, headings, text, len(passages)))
    return passages


def _sections(document: Document) -> list[tuple[tuple[str, ...], str]]:
    """(heading path, body) pairs; an H1 that repeats the title is not part of the path."""
    stack: list[tuple[int, str]] = []
    sections: list[tuple[tuple[str, ...], str]] = []
    body: list[str] = []

    def flush() -> None:
        text = "\n".join(body).strip()
        if text:
            sections.append((tuple(name for _, name in stack), text))
        body.clear()

    for line in document.text.splitlines():
        match = _HEADING.match(line)
        if not match:
            body.append(line)
            continue
        flush()
        level, name = len(match.group(1)), match.group(2).strip()
        while stack and stack[-1][0] >= level:
            stack.pop()
        if not (level == 1 and name == document.title):
            stack.append((level, name))
    flush()
    return sections


def _paragraphs(body: str) -> list[str]:
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", body):
        text = "\n".join(line.strip() for line in block.splitlines() if line.strip())
        if not text:
            continue
        if len(text) <= MAX_CHARS:
            paragraphs.append(text)
            continue
        paragraphs.extend(_cut(text))
    return paragraphs


def _cut(text: str) -> list[str]:
    """A long paragraph as pieces of at most MAX_CHARS, cut at sentence ends (or at spaces if it must)."""
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > MAX_CHARS:
            cut = sentence.rfind(" ", 0, MAX_CHARS)
            cut = cut if cut > 0 else MAX_CHARS
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > TARGET_CHARS:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def _pack(paragraphs: list[str]) -> list[str]:
    """Consecutive paragraphs joined up to TARGET_CHARS."""
    packed: list[str] = []
    current = ""
    for paragraph in paragraphs:
        if current and len(current) + 2 + len(paragraph) > TARGET_CHARS:
            packed.append(current)
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        packed.append(current)
    return packed
