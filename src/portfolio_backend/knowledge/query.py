"""Visitor text as an FTS5 query that cannot be a syntax error.

FTS5 reads MATCH as its own query language: `multi-agent` would be "no such column: agent", and an
apostrophe, `@`, `?`, `%` or `/` a syntax error. So every word becomes a quoted phrase (any `"`
inside doubled) and the phrases are joined with OR, which BM25 then ranks: a question never needs
every one of its words in a passage. Common words are dropped, since with OR they would match
everything. Text with no word left is no query at all (no result), never an error.
"""

from __future__ import annotations

import re

# Enough words that a long pasted question still costs one small query.
MAX_TERMS = 32

_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)

_COMMON_WORDS = """
    a about above after again all am an and any are as at be been being but by can could did do does doing
    down during each few for from had has have having he her here hers him his how i if in into is it its
    me more most my no nor not of off on once only or other our out over own same she should so some such
    than that the their them then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours tell know please much
    many also just get got like hello hi hey thanks thank ok okay
"""
STOPWORDS = frozenset(_COMMON_WORDS.split())


def query_terms(text: str) -> list[str]:
    """The searchable words of free text, each as a quoted FTS5 phrase, at most MAX_TERMS."""
    phrases: list[str] = []
    seen: set[str] = set()
    for raw in text.split():
        word = _POSSESSIVE.sub("", _EDGE.sub("", raw))
        key = word.lower()
        if not word or key in STOPWORDS or key in seen or not any(ch.isalnum() for ch in word):
            continue
        seen.add(key)
        phrases.append('"' + word.replace('"', '""') + '"')
        if len(phrases) == MAX_TERMS:
            break
    return phrases


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression for free text, or None when no searchable word is left."""
    return " OR ".join(query_terms(text)) or None
