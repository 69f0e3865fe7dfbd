"""The owner's knowledge, for the owner: what was read, what was not and why; reload on demand."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ...deps import KnowledgeDep
from ...errors import NotFound, ServiceUnavailable
from ...knowledge import KnowledgeError

router = APIRouter(tags=["admin"])

NOT_CONFIGURED = "No knowledge sources are configured: set KNOWLEDGE_DIR, KNOWLEDGE_URLS or KNOWLEDGE_SITEMAP."


@router.get("/knowledge")
async def knowledge_status(knowledge: KnowledgeDep) -> dict[str, Any]:
    """The knowledge index: sources used, sources that could not be read and why, size and ranking."""
    if knowledge is None:
        return {"configured": False, "detail": NOT_CONFIGURED}
    return {"configured": True, **knowledge.status()}


@router.post("/knowledge/reload")
async def reload_knowledge(knowledge: KnowledgeDep) -> dict[str, Any]:
    """Read the files and fetch the pages again; rebuild the index if anything changed."""
    if knowledge is None:
        raise NotFound(NOT_CONFIGURED)
    try:
        rebuilt = await knowledge.reload()
    except KnowledgeError as exc:
        raise ServiceUnavailable("The knowledge index cannot be written; the previous one is still served.") from exc
    return {"configured": True, "rebuilt": rebuilt, **knowledge.status()}
