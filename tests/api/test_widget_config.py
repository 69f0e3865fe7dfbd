"""GET /widget/config: what the chat widget learns from the service instead of hard-coding it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings
from portfolio_backend.tools import default_tools

pytestmark = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)


async def test_it_names_the_prompt_limit_the_service_enforces(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(prompt_max_chars=12)) as client:
        config = await client.get("/widget/config")
        refused = await client.post("/stream", json={"prompt": "x" * 13})
    assert config.status_code == 200
    assert config.json()["prompt_max_chars"] == 12
    assert config.headers["cache-control"] == "public, max-age=300"
    assert refused.status_code == 422


async def test_every_tool_has_a_label_the_lead_tools_too(client: httpx2.AsyncClient) -> None:
    labels = (await client.get("/widget/config")).json()["tool_labels"]
    assert set(labels) == {tool.name for tool in default_tools()}  # disabled ones too: history shows them
    assert labels["record_user_details"] == "Passed your details to the owner"
    assert labels["record_unknown_question"] == "Noted the question for the owner"
    assert all(label and label[0].isupper() for label in labels.values())


async def test_it_is_in_the_openapi_schema(client: httpx2.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/widget/config"]["get"]
    assert operation["tags"] == ["widget"]
    reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]["properties"]
    assert set(fields) == {"prompt_max_chars", "tool_labels", "privacy_url"}


async def test_it_links_the_owners_privacy_policy_or_none(
    make_settings: Callable[..., Settings], client_for: Any, client: httpx2.AsyncClient
) -> None:
    assert (await client.get("/widget/config")).json()["privacy_url"] is None
    async with client_for(make_settings(privacy_url="https://alex.example/privacy")) as owner:
        config = (await owner.get("/widget/config")).json()
    assert config["privacy_url"] == "https://alex.example/privacy"
