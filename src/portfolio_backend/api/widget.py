"""The embeddable chat widget: GET /widget.js, /widget.css and the demo page GET /chat.

The three files are read once, at import, into memory with their ETags, so a request never
touches the disk. They change only with a deploy, which restarts the process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files

from fastapi import APIRouter, Request, Response

router = APIRouter(tags=["widget"])

# Five minutes: a fixed widget reaches visitors quickly, and revalidation after that is a 304.
CACHE_CONTROL = "public, max-age=300"

# The demo page proves the widget needs no inline script and no eval: only same-origin scripts.
CHAT_PAGE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


@dataclass(frozen=True, slots=True)
class StaticAsset:
    body: bytes
    media_type: str
    etag: str

    @classmethod
    def load(cls, name: str, media_type: str) -> StaticAsset:
        body = files("portfolio_backend").joinpath("widget", name).read_bytes()
        return cls(body, media_type, f'"{hashlib.sha256(body).hexdigest()[:20]}"')

    def response(self, request: Request, headers: dict[str, str] | None = None) -> Response:
        cache = {"Cache-Control": CACHE_CONTROL, "ETag": self.etag, **(headers or {})}
        if self.etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=cache)
        return Response(self.body, media_type=self.media_type, headers=cache)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


WIDGET_JS = StaticAsset.load("widget.js", "text/javascript; charset=utf-8")
WIDGET_CSS = StaticAsset.load("widget.css", "text/css; charset=utf-8")
CHAT_PAGE = StaticAsset.load("chat.html", "text/html; charset=utf-8")


@router.api_route("/widget.js", methods=["GET", "HEAD"], response_class=Response, include_in_schema=False)
async def widget_js(request: Request) -> Response:
    """The chat widget script: embed it with one `<script src=".../widget.js" defer>` tag."""
    return WIDGET_JS.response(request)


@router.api_route("/widget.css", methods=["GET", "HEAD"], response_class=Response, include_in_schema=False)
async def widget_css(request: Request) -> Response:
    """The chat widget's stylesheet, loaded by widget.js into its shadow root."""
    return WIDGET_CSS.response(request)


@router.api_route("/chat", methods=["GET", "HEAD"], response_class=Response, include_in_schema=False)
async def chat_page(request: Request) -> Response:
    """A demo portfolio page with the chat widget embedded."""
    return CHAT_PAGE.response(request, {"Content-Security-Policy": CHAT_PAGE_CSP})
