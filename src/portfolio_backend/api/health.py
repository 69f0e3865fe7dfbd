"""Service info and health: GET /, /health, /health/live, /health/ready (the metrics: metrics.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from .. import __version__
from ..deps import LLMDep, SettingsDep, StoresDep
from ..store import StoreError, Stores

router = APIRouter(tags=["health"])

# /health must answer within a second even when the store hangs.
HEALTH_TIMEOUT_SECONDS = 0.8


async def store_status(store: Stores) -> tuple[bool, str]:
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
            await store.check()
    except (StoreError, TimeoutError) as exc:
        return False, str(exc) or "timed out"
    return True, "connected"


def _redis_word(backend: str, ok: bool, detail: str) -> str:
    """The seed's `redis` field, word for word: monitors written against the seed compare with it."""
    if backend != "redis":
        return "not configured"
    return "healthy" if ok else f"unhealthy: {detail}"


@router.get("/")
async def root(settings: SettingsDep, llm: LLMDep, store: StoresDep) -> dict[str, Any]:
    """Basic service information."""
    return {
        "message": "PortfolioBackend is running",
        "status": "ok",
        "version": __version__,
        "model": llm.model,
        "model_provider": llm.provider,
        "storage": store.name,
        "rate_limit": str(settings.rate_limit),
        "docs": "/docs" if settings.docs_enabled else None,
    }


@router.get("/health")
async def health(llm: LLMDep, store: StoresDep) -> JSONResponse:
    """Health with storage status; 503 naming the failed dependency when the store is down."""
    ok, detail = await store_status(store)
    body: dict[str, Any] = {
        "status": "healthy" if ok else "unhealthy",
        "storage": {
            "backend": store.name,
            "status": "connected" if ok else "unavailable",
            "detail": detail,
        },
        "redis": _redis_word(store.name, ok, detail),
        "model_provider": llm.provider,
        "model": llm.model,
        "demo_mode": llm.provider == "demo",
    }
    if not ok:
        body["failed"] = [store.name]
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/health/live")
async def live() -> dict[str, str]:
    """Liveness: the process answers. Does not touch dependencies."""
    return {"status": "alive"}


@router.get("/health/ready")
async def ready(store: StoresDep) -> JSONResponse:
    """Readiness: the store answers, so requests can be served."""
    ok, detail = await store_status(store)
    return JSONResponse(
        {
            "status": "ready" if ok else "not ready",
            "storage": store.name,
            "detail": detail,
        },
        status_code=200 if ok else 503,
    )
