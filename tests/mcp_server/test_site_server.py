"""The site as an MCP server, driven by the official `mcp` client over Streamable HTTP.

Two service processes (`python main.py`) on one store, as replicas behind a proxy: one agent's calls
go to either, alternately, and find one conversation, one quota and one lead backlog. Every request
comes from 127.0.0.1, so both processes count one visitor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import CallToolResult

from ..fixtures.service import ServiceProcess
from ..fixtures.shared_store import KINDS, SharedStore, services_on, shared_store

pytestmark = pytest.mark.slow

LIMIT = 4
ADMIN_TOKEN = "admin-token-for-the-mcp-tests-0123456789"


@pytest.fixture(scope="module", params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedStore]:
    yield from shared_store(request.param, request, tmp_path_factory)


@pytest.fixture(scope="module")
def services(store: SharedStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServiceProcess]]:
    workdir = tmp_path_factory.mktemp("mcp-services")
    env = {
        "DEMO_WORD_DELAY": "0",
        "GLOBAL_DAILY_REQUESTS": "0",
        "RATE_LIMIT": f"{LIMIT}/day",
        "SESSION_CREATE_LIMIT": "1000/hour",
        "ADMIN_TOKEN": ADMIN_TOKEN,  # the console is where leads are seen: contact_owner is offered
        "KNOWLEDGE_INDEX_PATH": str(workdir / "knowledge.sqlite3"),
    }
    yield from services_on(store, workdir, ("mcp-a", "mcp-b"), env)


@pytest.fixture
def urls(services: list[ServiceProcess], store: SharedStore) -> list[str]:
    """Each process's /mcp, on a flushed store (a fresh quota, no sessions, no leads)."""
    store.flush()
    return [service.url + "/mcp" for service in services]


async def call(url: str, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    """One call as an agent makes it: a new client (stateless: nothing is kept between calls)."""
    async with Client(url, cache=None) as client:
        return await client.call_tool(tool, arguments)


def text(result: CallToolResult) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


async def test_an_agent_lists_the_three_tools_and_the_owners_sources(urls: list[str]) -> None:
    async with Client(urls[0], cache=None) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        resources = (await client.list_resources()).resources
        about = next(resource for resource in resources if str(resource.uri) == "knowledge:///about.md")
        read = await client.read_resource(about.uri)
    assert set(tools) == {"ask", "search_knowledge", "contact_owner"}
    assert tools["ask"].input_schema["required"] == ["question"]
    assert tools["ask"].output_schema is not None
    assert set(tools["contact_owner"].input_schema["properties"]) == {"email", "message", "name"}
    assert about.title == "About Alex Doe"
    assert {str(resource.uri) for resource in resources} >= {"knowledge:///projects.md", "knowledge:///services.md"}
    assert "Lisbon" in getattr(read.contents[0], "text", "")


async def test_one_conversation_alternates_between_the_two_processes(urls: list[str], services: Any) -> None:
    first = await call(urls[0], "ask", {"question": "My name is Ada. What does the owner do?"})
    assert not first.is_error, text(first)
    assert first.structured_content is not None
    conversation = first.structured_content["conversation_id"]
    assert first.structured_content["answer"]
    second = await call(urls[1], "ask", {"question": "Do you remember me?", "conversation_id": conversation})
    assert not second.is_error, text(second)
    assert second.structured_content is not None
    assert second.structured_content["conversation_id"] == conversation
    # B answered from the history A stored: the demo model repeats a name told earlier
    assert "your name is Ada" in second.structured_content["answer"]
    async with httpx2.AsyncClient(base_url=services[0].url) as http:
        history = (await http.get(f"/session/{conversation}")).json()
    assert [m["content"] for m in history["messages"] if m["role"] == "user"] == [
        "My name is Ada. What does the owner do?",
        "Do you remember me?",
    ]


async def test_search_knowledge_returns_passages_with_their_sources(urls: list[str]) -> None:
    result = await call(urls[1], "search_knowledge", {"query": "consulting engagements"})
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    passages = result.structured_content["passages"]
    assert passages
    assert all(passage["file"] and passage["text"] and passage["title"] for passage in passages)


async def test_contact_owner_records_a_lead_the_owner_sees(urls: list[str], services: Any) -> None:
    result = await call(
        urls[0], "contact_owner", {"email": "ada@example.com", "message": "I'd like a quote", "name": "Ada"}
    )
    assert not result.is_error, text(result)
    async with httpx2.AsyncClient(base_url=services[1].url) as http:
        response = await http.get("/admin/api/leads", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    leads = response.json()
    assert response.status_code == 200, leads
    assert [(lead["email"], lead["name"], lead["notes"]) for lead in leads["leads"]] == [
        ("ada@example.com", "Ada", "I'd like a quote")
    ]


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        pytest.param("ask", {}, "Invalid arguments for ask: question: Field required", id="ask-no-question"),
        pytest.param("ask", {"question": "   "}, "The question is empty.", id="ask-blank"),
        pytest.param(
            "ask",
            {"question": "Hi", "conversation_id": "not-a-conversation"},
            "Unknown or expired conversation: not-a-conversation",
            id="ask-unknown-conversation",
        ),
        pytest.param(
            "contact_owner",
            {"email": "no-at-sign", "message": "hello"},
            "Invalid arguments for contact_owner: email:",
            id="contact-bad-email",
        ),
        pytest.param("search_knowledge", {"query": ""}, "Invalid arguments for search_knowledge: query:", id="empty"),
        pytest.param("delete_everything", {}, "delete_everything", id="unknown-tool"),
    ],
)
async def test_bad_input_is_an_mcp_tool_error_saying_what_is_wrong(
    urls: list[str], tool: str, arguments: dict[str, Any], message: str
) -> None:
    result = await call(urls[0], tool, arguments)
    assert result.is_error
    assert message in text(result)
    assert "Traceback" not in text(result)
    assert "pydantic.dev" not in text(result)


async def test_the_quota_holds_across_both_processes_and_a_refusal_says_when_to_retry(urls: list[str]) -> None:
    answered = [await call(urls[n % 2], "ask", {"question": f"Question {n}?"}) for n in range(LIMIT)]
    assert [result.is_error for result in answered] == [False] * LIMIT
    refused = await call(urls[LIMIT % 2], "ask", {"question": "One more?"})
    also_refused = await call(urls[(LIMIT + 1) % 2], "ask", {"question": "And another?"})
    for result in (refused, also_refused):
        assert result.is_error
        assert text(result).startswith("Rate limited:")
        assert "Retry after" in text(result)
    # searching the owner's pages is not a chat turn: it is not refused
    assert not (await call(urls[0], "search_knowledge", {"query": "projects"})).is_error
