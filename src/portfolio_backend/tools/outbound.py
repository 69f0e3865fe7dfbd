"""Calls from tools to outside services (weather, search, webhooks), bounded and in plain words.

Every call goes through the app's shared `httpx2.AsyncClient` with its own timeout, reads at most
`max_bytes` of the answer, and turns every failure into a `ToolError` naming the service. Nothing
here logs a URL, a query or a body: a search query is the visitor's words and a request body may
carry an API key.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx2

from .base import ToolError

log = logging.getLogger(__name__)

# A weather or search answer is a few kB; 1 MB is far above any honest one and caps memory.
MAX_ANSWER_BYTES = 1_000_000


async def fetch_json(
    http: httpx2.AsyncClient,
    method: str,
    url: str,
    *,
    service: str,
    timeout: float,
    params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    max_bytes: int = MAX_ANSWER_BYTES,
) -> Any:
    """The decoded JSON answer of `service`; ToolError when it is unreachable, slow, fails or is not JSON."""
    raw = await _exchange(
        http,
        method,
        url,
        service=service,
        timeout=timeout,
        params=params,
        body=body,
        headers=headers,
        max_bytes=max_bytes,
    )
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ToolError(f"{service} sent an answer that is not JSON") from exc


async def post_json(
    http: httpx2.AsyncClient,
    url: str,
    body: dict[str, Any],
    *,
    service: str,
    timeout: float,
    headers: dict[str, str] | None = None,
) -> None:
    """POST `body` as JSON (a webhook); ToolError unless the answer is a 2xx."""
    await _exchange(
        http,
        "POST",
        url,
        service=service,
        timeout=timeout,
        body=body,
        headers=headers,
        max_bytes=64_000,
    )


async def _exchange(
    http: httpx2.AsyncClient,
    method: str,
    url: str,
    *,
    service: str,
    timeout: float,
    params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    max_bytes: int,
) -> bytes:
    try:
        async with http.stream(method, url, params=params, json=body, headers=headers, timeout=timeout) as response:
            if response.status_code >= 400:
                log.warning("%s answered HTTP %s", service, response.status_code)
                raise ToolError(f"{service} answered with an error (HTTP {response.status_code})")
            if not 200 <= response.status_code < 300:
                # redirects are not followed: a moved endpoint is a configuration to fix, not to chase
                raise ToolError(f"{service} answered HTTP {response.status_code} instead of a result")
            raw = bytearray()
            async for chunk in response.aiter_bytes():
                raw += chunk
                if len(raw) > max_bytes:
                    raise ToolError(f"{service} sent an answer larger than {max_bytes // 1000} kB")
            return bytes(raw)
    except httpx2.TimeoutException as exc:
        log.warning("%s timed out (%s)", service, type(exc).__name__)
        raise ToolError(f"{service} did not answer within {timeout:g} s") from exc
    except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
        log.warning("%s unreachable (%s)", service, type(exc).__name__)
        raise ToolError(f"{service} is unreachable right now") from exc
