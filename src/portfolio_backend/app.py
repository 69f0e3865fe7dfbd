"""The application: `create_app(settings)`: settings, metrics, the lifespan (composition.py), the
FastAPI app, its routes, error handlers and middleware."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import NoMatchFound

from . import __version__
from .api import ai_sdk, ai_sdk_resume, feedback, health, quota, sessions, stream, tools, widget
from .api.admin import admin_router
from .api.admin.auth import error_headers
from .api.mcp_server import SiteServer
from .api.metrics import router as metrics_router  # `metrics` is the app's Metrics below
from .composition import compose
from .errors import PortfolioError, StoreError
from .middleware import RequestEdge
from .observability import Metrics
from .settings import Settings

log = logging.getLogger("portfolio_backend")


def create_app(settings: Settings | None = None, *, clock: Callable[[], float] = time.time) -> FastAPI:
    """The app. `clock` (epoch seconds) drives the quota windows and the budget days: tests pass
    their own to roll a UTC midnight over; nothing on the per-chunk path reads it."""
    settings = settings or Settings()
    metrics = Metrics()
    site = SiteServer() if settings.mcp_enabled else None  # the site as an MCP server at /mcp
    lifespan = compose(settings, metrics=metrics, clock=clock, site=site)

    app = FastAPI(
        title="PortfolioBackend",
        version=__version__,
        description="Streaming chat API for AI assistants on personal, portfolio and small-business sites.",
        lifespan=lifespan,
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url="/redoc" if settings.docs_enabled else None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    for router in (
        health.router,
        metrics_router,
        stream.router,
        ai_sdk.router,
        ai_sdk_resume.router,
        feedback.router,
        quota.router,
        sessions.router,
        tools.router,
        widget.router,
    ):
        app.include_router(router)
    if settings.admin_token:  # no token, no admin route: not even one that answers 401
        app.include_router(admin_router())
    if site is not None:
        app.router.routes.append(site.route())
    _install_error_handlers(app)

    # Outermost last. All pure ASGI: none buffers the streaming body.
    if settings.cors_origins:
        wildcard = "*" in settings.cors_origins
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"] if wildcard else settings.cors_origins,
            # never `*` with credentials: Starlette would then echo any Origin back, letting every
            # site read answers sent with the visitor's cookies
            allow_credentials=not wildcard,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=[
                "Content-Type",
                "Authorization",
                "X-Request-ID",
                "Last-Event-ID",
                "Mcp-Protocol-Version",  # what an MCP client in a browser sends to /mcp
                "Mcp-Session-Id",
            ],
            expose_headers=[
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
                "RateLimit",
                "RateLimit-Policy",
                "Retry-After",
                "X-Request-ID",
                "X-Turn-Id",
                "X-Session-Id",
            ],
        )
    app.add_middleware(RequestEdge, metrics=metrics, max_bytes=settings.max_body_bytes)
    # FastAPI builds an included route's dependants at its first request: ~150 ms of CPU on the event
    # loop, in the middle of the first visitors' turns. Looking up a name no route has builds them all now.
    with contextlib.suppress(NoMatchFound):
        app.url_path_for("\0 build every route now")
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PortfolioError)
    async def service_error(request: Request, exc: PortfolioError) -> JSONResponse:
        """Every error of the tree (errors.py): its status, its code and its public message."""
        if isinstance(exc, StoreError):
            log.warning("answered 503: %s", exc)  # the visitor reads one message; the log says what failed
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=error_headers(request, exc.headers))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                problems.append("the request body is not valid JSON")
                continue
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
            message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append(f"{where}: {message}")
        return JSONResponse(
            {
                "error": "validation_error",
                "detail": "; ".join(problems) or "Invalid request",
            },
            status_code=422,
            headers=error_headers(request, {}),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 422: "validation_error"}
        return JSONResponse(
            {"error": names.get(exc.status_code, "http_error"), "detail": exc.detail},
            status_code=exc.status_code,
            headers=error_headers(request, getattr(exc, "headers", None) or {}),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        route = getattr(request.scope.get("route"), "path", "unmatched")  # the path may hold a session id
        log.exception("unhandled error on %s %s", request.method, route)
        return JSONResponse(
            {"error": "internal_error", "detail": "Something went wrong on our side."},
            status_code=500,
        )
