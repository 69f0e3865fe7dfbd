"""Private by default: no visitor's address is stored, shown in the console or logged (issue 24).

Visitors come through a trusted proxy (X-Forwarded-For), two IPv4 and two IPv6 addresses in one
/64, and use every route that keeps something about them; then every Redis key and value, or
every SQLite row, and every log record, is searched for their addresses. STORE_VISITOR_IPS=true
is the same scan finding them, so the scan is known to see what it looks for.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings

from ..fixtures.store_scan import everything_stored

PROXY = "10.0.0.5"
ADMIN_TOKEN = "console-token-for-the-pseudonym-test"
IPV4 = ["203.0.113.77", "198.51.100.23"]
IPV6 = ["2001:db8:abcd:12::5", "2001:db8:abcd:12:ffff::9"]  # one /64: one visitor
# what must never be written: each address, and the IPv6 network they are counted by
NEVER_WRITTEN = [*IPV4, *IPV6, "2001:db8:abcd:12:"]


def settings_for(make_settings: Callable[..., Settings], **overrides: Any) -> Settings:
    return make_settings(trusted_proxies="10.0.0.0/8", admin_token=ADMIN_TOKEN, log_prompts=True, **overrides)


async def visit(client: httpx2.AsyncClient, address: str) -> dict[str, Any]:
    """What one visitor does: a session and turns in it, a sessionless turn, an AI SDK chat, a tool
    test, a wrong admin token, and a look at their quota and sessions. Returns their quota info."""
    me = {"X-Forwarded-For": address}
    session_id = (await client.post("/session", headers=me)).json()["session_id"]
    for prompt in ("What time is it?", "Calculate 15 * 7 + 23"):
        turn = await client.post("/stream", json={"prompt": prompt, "session_id": session_id}, headers=me)
        assert turn.status_code == 200
    assert (await client.post("/stream", json={"prompt": "Hello"}, headers=me)).status_code == 200
    chat = {
        "id": "chat-1",  # one per visitor: the same id from another visitor is another chat
        "messages": [{"id": "m1", "role": "user", "parts": [{"type": "text", "text": "Hi"}]}],
        "trigger": "submit-message",
    }
    assert (await client.post("/api/chat", json=chat, headers=me)).status_code == 200
    tool = {"tool_name": "calculate", "arguments": {"expression": "2+2"}, "session_id": session_id}
    assert (await client.post("/tools/test", json=tool, headers=me)).status_code == 200
    wrong = {**me, "Authorization": "Bearer not-the-token"}
    assert (await client.get("/admin/api/conversations", headers=wrong)).status_code == 401
    sessions = (await client.get("/sessions", headers=me)).json()
    assert sessions["ip"] == address  # the caller's own address, shown to them
    info: dict[str, Any] = (await client.get("/rate-limit-info", headers=me)).json()
    return info


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{record.getMessage()} {record.__dict__!r}" for record in caplog.records)


def found(text: str) -> list[str]:
    return [address for address in NEVER_WRITTEN if address in text]


async def test_no_address_is_stored_logged_or_shown_in_the_console(
    make_settings: Callable[..., Settings], client_for: Any, store_env: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with client_for(settings_for(make_settings), ip=PROXY) as client:
        infos = [await visit(client, address) for address in [*IPV4, *IPV6]]
        console = (
            await client.get(
                "/admin/api/conversations", params={"count": 100}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
            )
        ).text

    assert [info["ip"] for info in infos] == [*IPV4, *IPV6]  # /rate-limit-info keeps its `ip` field
    pseudonyms = [info["visitor"] for info in infos]
    assert len(set(pseudonyms)) == 3, "two IPv4 visitors and one IPv6 /64"
    assert all(p.startswith("v-") and len(p) == 34 for p in pseudonyms)
    assert all(pseudonym in console for pseudonym in pseudonyms)  # the console names visitors by pseudonym
    assert found(console) == []
    assert found(await everything_stored(store_env)) == []
    assert found(everything_logged(caplog)) == []


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_store_visitor_ips_keeps_the_addresses_where_the_scan_finds_them(
    make_settings: Callable[..., Settings], client_for: Any, store_env: dict[str, Any]
) -> None:
    async with client_for(settings_for(make_settings, store_visitor_ips=True), ip=PROXY) as client:
        info = await visit(client, IPV4[0])
    assert info["visitor"] == IPV4[0]
    assert found(await everything_stored(store_env)) == [IPV4[0]]


async def test_replicas_on_one_store_know_a_visitor_by_one_pseudonym_and_count_them_once(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    settings = make_settings(rate_limit="5/day")
    async with client_for(settings, ip=IPV4[0]) as first, client_for(settings, ip=IPV4[0]) as second:
        assert (await first.post("/stream", json={"prompt": "Hello"})).status_code == 200
        seen_by_first = (await first.get("/rate-limit-info")).json()
        seen_by_second = (await second.get("/rate-limit-info")).json()
    assert seen_by_first["visitor"] == seen_by_second["visitor"] != IPV4[0]
    assert seen_by_second["remaining"] == 4


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_a_visitor_hash_secret_gives_the_hmac_of_the_address_and_the_ipv6_network(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    secret = "an-owner-chosen-secret-of-some-length"
    async with client_for(make_settings(visitor_hash_secret=secret), ip=IPV6[0]) as client:
        info = (await client.get("/rate-limit-info")).json()

    def hmac_of(text: str) -> str:
        return "v-" + hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]

    assert info["visitor"] == hmac_of("2001:db8:abcd:12::/64")


def test_a_short_visitor_hash_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="visitor_hash_secret"):
        Settings(_env_file=None, visitor_hash_secret="short")  # type: ignore[call-arg]
