"""The raw SSE reader of the model's stream: `data:` events whatever the blocks the bytes arrive in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from portfolio_backend.llm.openai_compat import _data_events


async def read(*blocks: bytes) -> list[dict[str, Any]]:
    async def body() -> AsyncIterator[bytes]:
        for block in blocks:
            yield block

    response = httpx2.Response(200, content=body())
    return [event async for event in _data_events(response)]


def chunk(text: str) -> bytes:
    return b"data: " + json.dumps({"choices": [{"delta": {"content": text}}]}).encode() + b"\n\n"


def texts(events: list[dict[str, Any]]) -> list[str]:
    return [event["choices"][0]["delta"]["content"] for event in events]


async def test_one_event_per_data_line() -> None:
    assert texts(await read(chunk("Hel") + chunk("lo") + b"data: [DONE]\n\n")) == ["Hel", "lo"]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
async def test_events_split_anywhere_across_blocks_arrive_whole(size: int) -> None:
    stream = chunk("caf\u00e9 \U0001f600") + chunk("two") + b"data: [DONE]\n\n"  # multi-byte characters too
    blocks = [stream[start : start + size] for start in range(0, len(stream), size)]
    assert texts(await read(*blocks)) == ["caf\u00e9 \U0001f600", "two"]


async def test_comments_event_and_id_lines_and_blank_data_are_skipped() -> None:
    assert texts(
        await read(
            b": keep-alive\n\n",
            b": OPENROUTER PROCESSING\n\n",
            b"event: message\nid: 7\n" + chunk("a"),
            b"data:\n\n",
            b"retry: 1000\n\n",
            chunk("b"),
        )
    ) == ["a", "b"]


async def test_crlf_line_ends_and_no_space_after_the_colon() -> None:
    body = b'data:{"choices": [{"delta": {"content": "x"}}]}\r\n\r\n' + b"data: [DONE]\r\n\r\n"
    assert texts(await read(body)) == ["x"]


async def test_nothing_after_done_is_read_as_an_event_but_the_body_is_drained() -> None:
    drained = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal drained
        yield chunk("last") + b"data: [DONE]\n\n"
        yield chunk("after done")
        drained = True

    response = httpx2.Response(200, content=body())
    assert texts([event async for event in _data_events(response)]) == ["last"]
    assert drained  # read to the end, so the connection can go back to the pool


async def test_json_that_is_not_an_object_is_skipped() -> None:
    assert texts(await read(b"data: 5\n\n", b'data: "text"\n\n', b"data: [1]\n\n", chunk("ok"))) == ["ok"]


async def test_broken_json_raises_for_the_provider_to_report() -> None:
    with pytest.raises(ValueError, match="Expecting"):
        await read(b'data: {"choices": [\n\n')


async def test_an_event_cut_off_before_its_line_ends_is_not_delivered() -> None:
    assert texts(await read(chunk("whole"), b'data: {"choices": [{"delta": {"content": "cut"}}]}')) == ["whole"]
