"""search_knowledge: the model looks something up in the owner's pages, résumé and notes.

Each turn already carries the best passages for the prompt; this tool is for a follow-up lookup the
model decides it needs. Enabled when there is knowledge to search. Its result is the same
delimited, source-named passage format as the turn's context: data, not instructions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from ..knowledge.context import render_results
from ..settings import Settings
from .base import Tool, ToolContext, ToolError

if TYPE_CHECKING:
    from ..knowledge import Knowledge

# Passages one lookup returns: about 600 tokens, within the tool result cap.
RESULTS = 3


class SearchKnowledgeArgs(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=500,
        description="What to look up about the site owner, in a few words (e.g. 'rates', 'Python projects').",
    )


class SearchKnowledge(Tool[SearchKnowledgeArgs]):
    name = "search_knowledge"
    label = "Searched the owner's pages"
    description = (
        "Search the site owner's own pages, résumé and notes. Use it when the passages you were given do not "
        "cover a question about the owner. Returns the best passages with their sources."
    )
    Args = SearchKnowledgeArgs

    def __init__(self, knowledge: Knowledge | None = None) -> None:
        self.knowledge = knowledge

    def enabled(self, settings: Settings) -> bool:
        return self.knowledge is not None and self.knowledge.available

    async def run(self, args: SearchKnowledgeArgs, ctx: ToolContext) -> str:
        if self.knowledge is None:
            raise ToolError("No knowledge about the owner is configured")
        passages = await self.knowledge.search(args.query, RESULTS)
        if not passages:
            return "Nothing in the owner's pages and documents matches that."
        ctx.passages_found.extend(passages)
        return render_results(passages)
