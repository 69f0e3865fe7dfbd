"""GET /admin: the owner's console, one static page and its small JavaScript modules.

Served without the token: the page holds no data and asks for the token, which it keeps in
sessionStorage and sends as a Bearer header to /admin/api/... No build step and no CDN: the files
in `console/` are what the browser runs. Read once at import, like the widget's files.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Request, Response

from ...errors import NotFound
from ..widget import StaticAsset

router = APIRouter(include_in_schema=False)

# Only this origin's files, no inline script, no framing: a page that shows what visitors wrote
# must not run anything they wrote.
CONSOLE_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
_JS = "text/javascript; charset=utf-8"


def _load(name: str, media_type: str) -> StaticAsset:
    return StaticAsset.of(files("portfolio_backend").joinpath("console", name).read_bytes(), media_type)


ASSETS = {
    name: _load(name, media_type)
    for name, media_type in (
        ("console.js", _JS),
        ("api.js", _JS),
        ("answers.js", _JS),
        ("privacy.js", _JS),
        ("dom.js", _JS),
        ("chart.js", _JS),
        ("format.js", _JS),
        ("console.css", "text/css; charset=utf-8"),
    )
}
PAGE = _load("index.html", "text/html; charset=utf-8")


@router.api_route("", methods=["GET", "HEAD"], response_class=Response)
async def console_page(request: Request) -> Response:
    """The owner's console."""
    return PAGE.response(request, "no-cache", **{"Content-Security-Policy": CONSOLE_CSP})


@router.api_route("/assets/{name}", methods=["GET", "HEAD"], response_class=Response)
async def console_asset(name: str, request: Request) -> Response:
    """A script or stylesheet of the console."""
    asset = ASSETS.get(name)
    if asset is None:
        raise NotFound(f"No console file {name[:64]!r}.")
    return asset.response(request, "no-cache")
