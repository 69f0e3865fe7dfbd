"""A data-subject request end to end (issue 24): a visitor leaves traces through every route, the
owner finds and downloads them, erases them, and then no key, value or row anywhere in the store
names the visitor, their sessions, their email or what they wrote, while another visitor's
conversation is untouched (so the scan is known to see what it looks for). SQLite, Redis, Cluster.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings

from ..fixtures.store_scan import everything_stored
from ..fixtures.upstream import Reply, ScriptedToolCall, ScriptedUpstream

PROXY = "10.0.0.5"
TOKEN = "console-token-for-the-erasure-test"
OWNER = {"Authorization": f"Bearer {TOKEN}"}
ADDRESS = "203.0.113.77"
ME = {"X-Forwarded-For": ADDRESS}
OTHER = {"X-Forwarded-For": "198.51.100.23"}
SECRET = "PLUMTREE"  # in everything the visitor writes
EMAIL = "ada.plumtree@example.com"


def call(name: str, arguments: dict[str, Any]) -> Reply:
    return Reply(tool_calls=[ScriptedToolCall(name, json.dumps(arguments))])


async def stream(client: httpx2.AsyncClient, session_id: str, prompt: str, headers: dict[str, str]) -> str:
    turn = await client.post("/stream", json={"prompt": prompt, "session_id": session_id}, headers=headers)
    assert turn.status_code == 200
    return turn.headers["x-turn-id"]


async def leave_traces(client: httpx2.AsyncClient, upstream: ScriptedUpstream) -> list[str]:
    """Everything a visitor can leave: a session and its turns (a lead, an unknown question, a
    reminder through the tools), a rating, an AI SDK chat. Returns what names them."""
    session_id = (await client.post("/session", headers=ME)).json()["session_id"]
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    upstream.script(
        call("record_user_details", {"email": EMAIL, "name": "Ada", "notes": f"{SECRET} job"}),
        Reply(chunks=["Noted, Ada."]),
        call("create_reminder", {"title": f"Call {SECRET}", "datetime": due, "description": SECRET}),
        Reply(chunks=["Reminder set."]),
        call("record_unknown_question", {"question": f"Do you know {SECRET} street?"}),
        Reply(chunks=["I will ask."]),
        Reply(chunks=["Hi there."]),
    )
    turn_ids = [
        await stream(client, session_id, f"I am Ada, {EMAIL}, about {SECRET}", ME),
        await stream(client, session_id, f"Remind me of {SECRET}", ME),
        await stream(client, session_id, f"Where is {SECRET} street?", ME),
    ]
    rated = await client.post(
        "/feedback", json={"turn_id": turn_ids[-1], "rating": "down", "comment": f"{SECRET} wrong"}, headers=ME
    )
    assert rated.status_code == 204
    chat = {
        "id": f"chat-{SECRET}",
        "messages": [{"id": "m1", "role": "user", "parts": [{"type": "text", "text": f"{SECRET} hello"}]}],
        "trigger": "submit-message",
    }
    chatted = await client.post("/api/chat", json=chat, headers=ME)
    assert chatted.status_code == 200
    pseudonym = (await client.get("/rate-limit-info", headers=ME)).json()["visitor"]
    return [SECRET, EMAIL, pseudonym, session_id, chatted.headers["x-session-id"], *turn_ids]


@pytest.fixture
def settings(upstream_settings: Callable[..., Settings]) -> Settings:
    """The scripted model, the console on (and with it the lead tools), visitors behind a proxy."""
    return upstream_settings(admin_token=TOKEN, trusted_proxies="10.0.0.0/8")


async def test_an_owner_finds_downloads_and_erases_everything_about_a_visitor(
    settings: Settings, upstream: ScriptedUpstream, client_for: Any, store_env: dict[str, Any]
) -> None:
    async with client_for(settings, ip=PROXY) as client:
        traces = await leave_traces(client, upstream)
        other = (await client.post("/session", headers=OTHER)).json()["session_id"]
        await stream(client, other, "KIWIFRUIT is my word", OTHER)
        found = await client.get("/admin/api/privacy/subject", params={"visitor": ADDRESS}, headers=OWNER)
        download = await client.get("/admin/api/privacy/subject/export", params={"visitor": ADDRESS}, headers=OWNER)
        erased = await client.delete("/admin/api/privacy/subject", params={"visitor": ADDRESS}, headers=OWNER)
        again = await client.get("/admin/api/privacy/subject", params={"visitor": traces[2]}, headers=OWNER)
        kept = await client.get(f"/session/{other}")

    assert found.status_code == 200, found.text
    assert found.headers["cache-control"] == "no-store"
    document = found.json()
    assert document["subject"]["visitors"] == [traces[2]]  # the address, hashed as the quota hashes it
    assert {c["session_id"] for c in document["conversations"]} == {traces[3], traces[4]}
    written = json.dumps(document["conversations"])
    assert f"Remind me of {SECRET}" in written
    assert "Reminder set." in written
    assert any(r["title"] == f"Call {SECRET}" for c in document["conversations"] for r in c["reminders"])
    assert {lead["kind"] for lead in document["leads"]} == {"contact", "question"}
    assert document["feedback"][0]["comment"] == f"{SECRET} wrong"
    assert document["usage"], "the visitor's and sessions' usage rows"
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["cache-control"] == "no-store"
    assert json.loads(download.content)["conversations"] == document["conversations"]

    assert erased.status_code == 200, erased.text
    assert (erased.json()["conversations"], erased.json()["leads"]) == (2, 2)
    assert again.json()["conversations"] == again.json()["leads"] == again.json()["feedback"] == []
    assert kept.status_code == 200  # another visitor's conversation stays
    stored = await everything_stored(store_env)
    assert [trace for trace in traces if trace in stored] == []
    assert "KIWIFRUIT" in stored  # the scan sees conversations


async def test_a_visitor_downloads_and_deletes_their_own_conversation(
    settings: Settings, upstream: ScriptedUpstream, client_for: Any, store_env: dict[str, Any]
) -> None:
    async with client_for(settings, ip=PROXY) as client:
        traces = await leave_traces(client, upstream)
        session_id = traces[3]
        mine = await client.get(f"/session/{session_id}/export")
        deleted = await client.delete(f"/session/{session_id}")
        gone = await client.get(f"/session/{session_id}/export")
        console = await client.get(f"/admin/api/conversations/{session_id}", headers=OWNER)
        leads = (await client.get("/admin/api/leads", headers=OWNER)).json()["leads"]
        feedback = (await client.get("/admin/api/feedback", headers=OWNER)).json()["feedback"]

    assert mine.status_code == 200
    assert mine.headers["content-disposition"] == 'attachment; filename="conversation.json"'
    assert mine.headers["cache-control"] == "no-store"
    (conversation,) = mine.json()["conversations"]
    assert next(m["content"] for m in conversation["messages"] if m["role"] == "user").endswith(SECRET)
    assert deleted.status_code == 200
    assert gone.status_code == 404
    assert console.status_code == 404  # the owner's transcript went with it
    assert [lead for lead in leads if lead["session_id"] == session_id] == []
    assert feedback == []
    stored = await everything_stored(store_env)
    assert session_id not in stored
    assert traces[4] in stored  # the visitor's other conversation (the AI SDK chat) is theirs to delete


async def test_a_request_names_exactly_one_thing_and_bad_input_is_a_clear_400(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(admin_token=TOKEN)) as client:
        none = await client.get("/admin/api/privacy/subject", headers=OWNER)
        two = await client.get("/admin/api/privacy/subject", params={"visitor": "v-1", "email": "a@b"}, headers=OWNER)
        bad_id = await client.delete("/admin/api/privacy/subject", params={"session_id": "nope"}, headers=OWNER)
        bad_email = await client.get("/admin/api/privacy/subject", params={"email": "nobody"}, headers=OWNER)
        anonymous = await client.get("/admin/api/privacy/subject", params={"visitor": "v-1"})
        periods = await client.get("/admin/api/privacy/retention", headers=OWNER)
        not_an_id = await client.get("/session/not-a-session/export")
        unknown = await client.delete("/session/6f1c1a9e-5d8b-4d43-9a55-2f1f3c1d2e3f")
    assert [r.status_code for r in (none, two, bad_id, bad_email)] == [400, 400, 400, 400]
    assert all(r.json()["error"] == "bad_request" for r in (none, two, bad_id, bad_email))
    assert anonymous.status_code == 401
    assert periods.json()["transcript_days"] == 30
    assert periods.json()["leads_days"] == 365
    assert (not_an_id.status_code, not_an_id.json()["error"]) == (404, "not_found")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
