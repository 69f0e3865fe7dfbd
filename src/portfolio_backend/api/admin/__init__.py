"""The owner's console: the page at /admin and its JSON under /admin/api/.

Mounted by `create_app` only when ADMIN_TOKEN is set: without it no admin route exists at all.
Every router in `PROTECTED` is included behind `require_admin`, so a route added there cannot be
left open by forgetting a parameter.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from . import answers, console, conversations, feedback, knowledge, privacy, usage
from .auth import AdminCaller, AdminDep, authorize, require_admin

# Routers whose every route needs the token; their paths are relative to /admin.
PROTECTED: tuple[APIRouter, ...] = (
    answers.router,
    conversations.router,
    feedback.router,
    knowledge.router,
    privacy.router,
    usage.router,
)

# Routers served without the token: the console page itself (it asks for the token and holds no data).
PUBLIC: tuple[APIRouter, ...] = (console.router,)


def admin_router() -> APIRouter:
    """Everything under /admin, protected routers behind the admin token."""
    router = APIRouter()
    protected = APIRouter(dependencies=[Depends(require_admin)])
    for part in PROTECTED:
        protected.include_router(part)
    router.include_router(protected, prefix="/admin")
    for part in PUBLIC:
        router.include_router(part, prefix="/admin")
    return router


__all__ = ["AdminCaller", "AdminDep", "admin_router", "authorize", "require_admin"]
