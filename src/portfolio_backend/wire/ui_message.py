"""POST /api/chat's wire format: the AI SDK's UI message stream protocol, v1.

What the `ai` package's `DefaultChatTransport` reads (versions 5 to 7; tests/aisdk pins the client):
`data: <json>` Server-Sent Events, one UI message chunk each, ending with `data: [DONE]`, on a
response with the `x-vercel-ai-ui-message-stream: v1` header. A turn becomes what the SDK's own
server (`streamText(...).toUIMessageStreamResponse()`, read in `ai` 7.0's dist) writes for a model
that calls tools its server runs:

    start {messageId}                            the turn id: useChat's assistant message gets the
                                                 server's id (POST /feedback takes it as `message_id`)
    start-step                                   one step per model round, opened by its first part
      text-start {id} / text-delta {id, delta}... / text-end {id}
      source-url {sourceId, url, title} / source-document {sourceId, mediaType, title, filename}
                                                 after the last round's text: the owner's pages and
                                                 files the answer used (its markers [n] stay in the text)
      tool-input-start {toolCallId, toolName}    for each tool the round called, when the calls
      tool-input-delta {toolCallId, inputTextDelta}   are complete and before any runs: the client
      tool-input-available {toolCallId, toolName, input}   shows the part as running
      ...
      tool-output-available {toolCallId, output}     each one's output, once the tools have answered
        (tool-output-error {toolCallId, errorText} when it failed)
    finish-step                                  when the next round starts, or the turn ends
    ... the next round's step ...
    finish {finishReason: "stop"}        or, when the turn fails:   error {errorText}
    [DONE]

Steps follow the turn's `RoundStarted` events, so two rounds that only call tools are two steps, as
the SDK writes them. A step opens with its round's first part, as the SDK opens it with the model's
first chunk: a round whose model failed before answering has none. The arguments arrive whole
(the model client assembles them), so the input's text is one `tool-input-delta`, as the SDK's
OpenAI provider writes a tool call that arrives in one piece.

The client keeps a text part open between `text-start` and `text-end`, rejects a delta for a part
it does not know and an output for a call it has not seen, so an encoder remembers whether a step
and a text part are open and which calls it has written: it is built per response and its output is
a function of the events it was given, in order (no clock, no random ids). Replaying a turn's events
through a new encoder gives the same bytes, which is what a resumed stream needs: the AI SDK replays
a resumed answer from its start.

Keep-alives are SSE comments (`: keep-alive`), as the AI SDK's own server sends them: its parser
skips comments, while a `data:` event that is not a UI message chunk fails the whole answer.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any, assert_never

from ..chat.events import End, Error, RoundStarted, Sources, TextDelta, ToolCalled, ToolOutput, TurnEvent

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
    """A knowledge source as the SDK's source part; the passage's snippet and number ride in providerMetadata."""
    # the snippet, and the passage's number `n` the answer's citation markers ([n]) name, when it has one
    knowledge = {"snippet": source.get("snippet", ""), **({"n": source["n"]} if "n" in source else {})}
    metadata = {"knowledge": knowledge}
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

    __slots__ = ("_calls", "_message_id", "_started", "_step_open", "_text_id", "_texts")

    def __init__(self, message_id: str | None = None) -> None:
        self._message_id = message_id  # the turn id, sent in `start` as the assistant message's id
        self._started = False
        self._step_open = False
        self._text_id: bytes | None = None  # the open text part's id, JSON-encoded
        self._texts = 0  # text parts opened so far: each gets its own id
        self._calls: set[str] = set()  # tool calls written whose output is still to come

    def encode(self, event: TurnEvent) -> bytes:
        if isinstance(event, TextDelta):
            # the hot path: one chunk per delta, built directly, no dict per token
            opening = b"" if self._text_id is not None else self._open_text()
            return opening + b'data: {"type":"text-delta","id":%s,"delta":%s}\n\n' % (
                self._text_id,
                _dumps(event.content).encode(),
            )
        if isinstance(event, RoundStarted):
            return self._close_step()  # the round before has ended; this one's step opens with its first part
        if isinstance(event, ToolCalled):
            # the call's part, running until its output; text before it is closed
            self._calls.add(event.call_id)
            return self._step() + self._close_text() + _tool_called(event.call_id, event.tool_name, event.arguments)
        if isinstance(event, ToolOutput):
            head = self._step() + self._close_text()
            if event.call_id in self._calls:
                self._calls.discard(event.call_id)
            else:  # its call was never written (events from before `ToolCalled`): the part first
                head += _chunk(
                    "tool-input-available",
                    toolCallId=event.call_id,
                    toolName=event.tool_name,
                    input=_tool_input(event.arguments),
                )
            if event.ok:
                return head + _chunk("tool-output-available", toolCallId=event.call_id, output=event.result)
            return head + _chunk("tool-output-error", toolCallId=event.call_id, errorText=event.result)
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
        return _chunk("start", messageId=self._message_id) if self._message_id else _chunk("start")

    def _step(self) -> bytes:
        """`start` first; then the round's step, opened by its first part."""
        head = self._start()
        if self._step_open:
            return head
        self._step_open = True
        return head + _chunk("start-step")

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
        """Close the open text part and step, if any."""
        closing = self._close_text()
        if self._step_open:
            self._step_open = False
            closing += _chunk("finish-step")
        return closing


def _tool_called(call_id: str, tool_name: str, arguments: str) -> bytes:
    """A tool call as the SDK writes one whose input arrived whole: its start, its text, its input."""
    called = _chunk("tool-input-start", toolCallId=call_id, toolName=tool_name)
    if arguments:
        called += _chunk("tool-input-delta", toolCallId=call_id, inputTextDelta=arguments)
    return called + _chunk("tool-input-available", toolCallId=call_id, toolName=tool_name, input=_tool_input(arguments))
