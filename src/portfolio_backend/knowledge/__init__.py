"""The owner's knowledge: their pages, résumé and notes as an embedded, searchable index.

No FastAPI here. `Knowledge` (library.py) is what the service uses; sources.py reads files and
fetches pages, documents.py extracts text, passages.py splits it, index.py keeps the SQLite FTS5
index (and vectors), context.py renders what the model and the visitor see.
"""

from __future__ import annotations

from .context import quoted_passages, render, render_results, sources_of
from .index import KnowledgeError
from .library import Knowledge, KnowledgeConfig, Selection
from .passages import Passage
from .sources import FetchBounds, SourceFailure

__all__ = [
    "FetchBounds",
    "Knowledge",
    "KnowledgeConfig",
    "KnowledgeError",
    "Passage",
    "Selection",
    "SourceFailure",
    "quoted_passages",
    "render",
    "render_results",
    "sources_of",
]
