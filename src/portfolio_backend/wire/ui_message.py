"""POST /api/chat's wire format: the AI SDK's UI message stream protocol, v1.

What the `ai` package's `DefaultChatTransport` reads (versions 5 to 7; tests/aisdk pins the client):
`data: <json>` Server-Sent Events, one UI message chunk each, ending with `data: [DONE]`, on a
response with the `x-vercel-ai-ui-message-stream: v1` header. A turn becomes:

    start
    start-step                                   one step per model round
      source-url {sourceId, url, title} / source-document {sourceId, mediaType, title, filename}
                                                 the owner's pages and files the text draws on
      text-start {id} / text-delta {id, delta}... / text-end {id}
      tool-input-available {toolCallId, toolName, input}        for each tool the round called,
      tool-output-available {toolCallId, output}                once it has answered
        (tool-output-error {toolCallId, errorText} when it failed)
    finish-step
    ... the next round's step ...
    finish {finishReason: "stop"}        or, when the turn fails:   error {errorText}
    [DONE]

A round ends with its tool outputs, so what comes after a tool output opens the next step (two
rounds that only call tools, one after the other, share a step). The client keeps a text part
open between `text-start` and `text-end` and rejects a delta for a part it does not know, so an
encoder remembers whether a step and a text part are open: it is
built per response and its output is a function of the events it was given, in order (no clock,
no random ids). Replaying a turn's events through a new encoder gives the same bytes, which is
what a resumed stream needs: the AI SDK replays a resumed answer from its start.

Keep-alives are SSE comments (`: keep-alive`), as the AI SDK's own server sends them: its parser
skips comments, while a `data:` event that is not a UI message chunk fails the whole answer.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any, assert_never

from ..chat.events import End, Error, Sources, TextDelta, ToolOutput, TurnEvent

HEADERS = {"x-vercel-ai-ui-message-stream": "v1"}

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_DONE = b"data: [DONE]\n\n"
_KEEPALIVE = b": keep-alive\n\n"


def _chunk(chunk_type: str, **fields: Any) -> bytes:
    return b"data: " + _dumps({"type": chunk_type, **fields}).encode() + b"\n\n"


def _tool_input(arguments: str) -> Any:
    """The tool's input as the client shows it: the model's JSON, or its text when it is not JSON."""
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


# The kinds of file the owner's knowledge is read from (knowledge/documents.py); others are text.
_MEDIA_TYPES = {".md": "text/markdown", ".html": "text/html", ".htm": "text/html", ".pdf": "application/pdf"}


def _source(source: dict[str, Any]) -> bytes:
    """A knowledge source as the SDK's source part; the passage's snippet rides in providerMetadata."""
    metadata = {"knowledge": {"snippet": source.get("snippet", "")}}
    title = str(source.get("title", ""))
    if "url" in source:
        return _chunk("source-url", sourceId=source["url"], url=source["url"], title=title, providerMetadata=metadata)
    filename = str(source.get("file", ""))
    media_type = _MEDIA_TYPES.get(PurePosixPath(filename).suffix.lower(), "text/plain")
    return _chunk(
        "source-document",
        sourceId=filename,
        mediaType=media_type,
        title=title or filename,
        filename=filename,
        providerMetadata=metadata,
    )


class UIMessageEncoder:
    """The `EventEncoder` of POST /api/chat: one per response (it tracks the open step and text part)."""

    __slots__ = ("_started", "_step_open", "_text_id", "_texts", "_tools_answered")

    def __init__(self) -> None:
        self._started = False
        self._step_open = False
        self._text_id: bytes | None = None  # the open text part's id, JSON-encoded
        self._texts = 0  # text parts opened so far: each gets its own id
        self._tools_answered = False  # the open step's round has ended with tool outputs

    def encode(self, event: TurnEvent) -> bytes:
        if isinstance(event, TextDelta):
            # the hot path: one chunk per delta, built directly, no dict per token
            opening = b"" if self._text_id is not None else self._open_text()
            return opening + b'data: {"type":"text-delta","id":%s,"delta":%s}\n\n' % (
                self._text_id,
                _dumps(event.content).encode(),
            )
        if isinstance(event, ToolOutput):
            # the outputs of one round share its step; text before them is closed
            head = self._start() + self._open_step() + self._close_text()
            self._tools_answered = True
            called = _chunk(
                "tool-input-available",
                toolCallId=event.call_id,
                toolName=event.tool_name,
                input=_tool_input(event.arguments),
            )
            if event.ok:
                return head + called + _chunk("tool-output-available", toolCallId=event.call_id, output=event.result)
            return head + called + _chunk("tool-output-error", toolCallId=event.call_id, errorText=event.result)
        if isinstance(event, Sources):
            return self._step() + b"".join(_source(source) for source in event.sources)
        if isinstance(event, End):
            return self._start() + self._close_step() + _chunk("finish", finishReason="stop") + _DONE
        if isinstance(event, Error):
            return self._start() + self._close_step() + _chunk("error", errorText=event.message) + _DONE
        assert_never(event)

    def keepalive(self) -> bytes:
        return _KEEPALIVE

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return _chunk("start")

    def _step(self) -> bytes:
        """`start` first; then a step for this event: the open one, or a new one after a tool round."""
        head = self._start()
        if self._step_open and self._tools_answered:
            head += self._close_step()
        return head + self._open_step()

    def _open_step(self) -> bytes:
        if self._step_open:
            return b""
        self._step_open = True
        self._tools_answered = False
        return _chunk("start-step")

    def _open_text(self) -> bytes:
        head = self._step()
        self._texts += 1
        self._text_id = b'"text-%d"' % self._texts
        return head + b'data: {"type":"text-start","id":%s}\n\n' % self._text_id

    def _close_text(self) -> bytes:
        if self._text_id is None:
            return b""
        closing = b'data: {"type":"text-end","id":%s}\n\n' % self._text_id
        self._text_id = None
        return closing

    def _close_step(self) -> bytes:
        """Close the open text part and step, if any (a new round opens its own step)."""
        closing = self._close_text()
        if self._step_open:
            self._step_open = False
            closing += _chunk("finish-step")
        return closing
