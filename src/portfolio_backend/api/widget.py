"""The embeddable chat widget: its files, what it needs to know about the service, and the demo page.

- `GET /widget.js`: the one script an owner embeds (a classic script, so the one `<script src>` tag
  works); it imports the widget's ES modules. Cached 5 minutes, then revalidated by ETag.
- `GET /widget/{version}/{file}`: the ES modules and the stylesheet, no build step: the files of
  `portfolio_backend/widget/` as they are. `version` is their content hash, written into widget.js
  as it is served, so one release's modules are never mixed with another's and a browser may keep
  them for a year. Any other version is answered too (a page that still holds the previous
  widget.js, a rolling deploy), with the short cache. Modules load cross-origin in CORS mode, so
  they are served with `Access-Control-Allow-Origin: *` (public files, no credentials).
- `GET /widget/config`: the prompt limit, the tools' labels and the privacy policy's URL, so the
  widget hard-codes none of them.
- `GET /widget.css` (the stylesheet at its first address) and `GET /chat` (the demo page).

Every file is read once, at import, into memory with its ETag, so a request never touches the disk.
They change only with a deploy, which restarts the process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from ..deps import SettingsDep, ToolsDep
from ..errors import NotFound

router = APIRouter(tags=["widget"])

# Five minutes: a fixed widget reaches visitors quickly, and revalidation after that is a 304.
CACHE_CONTROL = "public, max-age=300"
# A versioned module never changes: its URL changes with its content.
IMMUTABLE = "public, max-age=31536000, immutable"

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

MEDIA_TYPES = {".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Where widget.js names the modules' directory; "dev" is what it says in the source tree.
MODULES_MARKER = b'var MODULES = "widget/dev/";'


@dataclass(frozen=True, slots=True)
class StaticAsset:
    body: bytes
    media_type: str
    etag: str

    @classmethod
    def of(cls, body: bytes, media_type: str) -> StaticAsset:
        return cls(body, media_type, f'"{hashlib.sha256(body).hexdigest()[:20]}"')

    @classmethod
    def load(cls, name: str, media_type: str) -> StaticAsset:
        return cls.of(_read(name), media_type)

    def response(self, request: Request, cache_control: str = CACHE_CONTROL, **headers: str) -> Response:
        sent = {"Cache-Control": cache_control, "ETag": self.etag, **headers}
        if self.etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=sent)
        return Response(self.body, media_type=self.media_type, headers=sent)


def _read(name: str) -> bytes:
    return files("portfolio_backend").joinpath("widget", name).read_bytes()


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _load_modules() -> tuple[str, dict[str, StaticAsset]]:
    """The files served under /widget/{version}/, and their version: a hash over all of them."""
    found = sorted(
        entry.name
        for entry in files("portfolio_backend").joinpath("widget").iterdir()
        if entry.name.endswith(tuple(MEDIA_TYPES))
    )
    assets = {name: StaticAsset.load(name, MEDIA_TYPES[name[name.rindex(".") :]]) for name in found}
    digest = hashlib.sha256()
    for name in found:
        digest.update(f"{name}\0{len(assets[name].body)}\0".encode())
        digest.update(assets[name].body)
    return digest.hexdigest()[:16], assets


def _load_loader(version: str) -> StaticAsset:
    source = _read("widget.js")
    if source.count(MODULES_MARKER) != 1:  # a broken widget must fail the start, not the visitor
        raise RuntimeError(f"widget.js must contain {MODULES_MARKER.decode()!r} exactly once")
    return StaticAsset.of(
        source.replace(MODULES_MARKER, f'var MODULES = "widget/{version}/";'.encode()),
        "text/javascript; charset=utf-8",
    )


MODULES_VERSION, MODULES = _load_modules()
WIDGET_JS = _load_loader(MODULES_VERSION)
CHAT_PAGE = StaticAsset.load("chat.html", "text/html; charset=utf-8")


class WidgetConfig(BaseModel):
    prompt_max_chars: int = Field(description="The longest prompt POST /stream accepts, in characters.")
    tool_labels: dict[str, str] = Field(
        description="What the widget shows when the assistant used a tool, by tool name.",
        examples=[{"get_current_time": "Checked the time", "calculate": "Calculated"}],
    )
    privacy_url: str | None = Field(
        description="The owner's privacy policy, linked under the widget's input (PRIVACY_URL); null: none.",
        examples=["https://www.example.com/privacy"],
    )


@router.get("/widget/config")
async def widget_config(settings: SettingsDep, tools: ToolsDep, response: Response) -> WidgetConfig:
    """What the chat widget needs to know about this service: prompt limit, tool labels, privacy policy."""
    response.headers["Cache-Control"] = CACHE_CONTROL  # all change only with a restart
    return WidgetConfig(
        prompt_max_chars=settings.prompt_max_chars, tool_labels=tools.labels(), privacy_url=settings.privacy_url
    )


@router.api_route("/widget.js", methods=["GET", "HEAD"], response_class=Response, include_in_schema=False)
async def widget_js(request: Request) -> Response:
    """The chat widget script: embed it with one `<script src=".../widget.js" defer>` tag."""
    return WIDGET_JS.response(request)


@router.api_route("/widget/{version}/{name}", methods=["GET", "HEAD"], response_class=Response, include_in_schema=False)
async def widget_module(request: Request, version: str, name: str) -> Response:
    """One of the widget's ES modules or its stylesheet, as widget.js names them."""
    asset = MODULES.get(name)
    if asset is None:
        raise NotFound(f"No widget file {name!r}.")
    cache = IMMUTABLE if version == MODULES_VERSION else CACHE_CONTROL
    return asset.response(request, cache, **{"Access-Control-Allow-Origin": "*"})


@router.api_route("/widget.css", methods=["GET", "HEAD"], response_class=Response, include_in_schema=False)
async def widget_css(request: Request) -> Response:
    """The chat widget's stylesheet at its first address (widget.js loads the versioned one)."""
    return MODULES["widget.css"].response(request)


@router.api_route("/chat", methods=["GET", "HEAD"], response_class=Response, include_in_schema=False)
async def chat_page(request: Request) -> Response:
    """A demo portfolio page with the chat widget embedded."""
    return CHAT_PAGE.response(request, **{"Content-Security-Policy": CHAT_PAGE_CSP})
