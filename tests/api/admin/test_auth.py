"""The admin token: only when set, only as a Bearer header, wrong guesses bounded across replicas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2

from portfolio_backend.settings import Settings

TOKEN = "owner-token-0123456789"
GOOD = {"Authorization": f"Bearer {TOKEN}"}


async def test_without_a_token_no_admin_route_exists(client: httpx2.AsyncClient) -> None:
    for path in ("/admin", "/admin/api/leads", "/admin/api/conversations"):
        response = await client.get(path, headers={"Authorization": "Bearer anything"})
        assert response.status_code == 404
        assert "ADMIN_TOKEN" not in response.text  # no hint that a console could be switched on
    schema = (await client.get("/openapi.json")).json()
    assert not [path for path in schema["paths"] if path.startswith("/admin")]


async def test_the_right_bearer_token_opens_the_admin_api(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(admin_token=TOKEN)) as client:
        response = await client.get("/admin/api/leads", headers=GOOD)
    assert response.status_code == 200
    assert response.json() == {"leads": []}
    assert response.headers["cache-control"] == "no-store"


async def test_a_missing_or_wrong_token_is_a_json_401_that_never_echoes_the_token(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(admin_token=TOKEN)) as client:
        missing = await client.get("/admin/api/leads")
        wrong = await client.get("/admin/api/leads", headers={"Authorization": "Bearer owner-token-0123456788"})
        basic = await client.get("/admin/api/leads", headers={"Authorization": f"Basic {TOKEN}"})
    for response in (missing, wrong, basic):
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in response.text
    assert "Authorization: Bearer" in missing.json()["detail"]


async def test_a_token_in_the_url_is_never_accepted(make_settings: Callable[..., Settings], client_for: Any) -> None:
    async with client_for(make_settings(admin_token=TOKEN)) as client:
        for params in ({"token": TOKEN}, {"access_token": TOKEN}, {"admin_token": TOKEN}):
            assert (await client.get("/admin/api/leads", params=params)).status_code == 401


async def test_wrong_tokens_lock_the_visitor_out_even_with_the_right_one_then(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    settings = make_settings(admin_token=TOKEN, admin_auth_limit="3/hour")
    async with client_for(settings, ip="198.51.100.9") as client:
        wrong = [await client.get("/admin/api/leads", headers={"Authorization": f"Bearer guess-{n}"}) for n in range(4)]
        right = await client.get("/admin/api/leads", headers=GOOD)
    assert [response.status_code for response in wrong] == [401, 401, 401, 429]
    assert right.status_code == 429
    assert right.json()["error"] == "rate_limited"
    assert 0 < int(right.headers["retry-after"]) <= 3600
    assert right.headers["x-ratelimit-remaining"] == "0"
    async with client_for(settings, ip="198.51.100.10") as other:
        assert (await other.get("/admin/api/leads", headers=GOOD)).status_code == 200


async def test_wrong_tokens_are_counted_once_across_replicas(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    settings = make_settings(admin_token=TOKEN, admin_auth_limit="4/hour")
    async with client_for(settings) as replica_a, client_for(settings) as replica_b:
        for n in range(2):
            assert (
                await replica_a.get("/admin/api/leads", headers={"Authorization": f"Bearer a{n}"})
            ).status_code == 401
            assert (
                await replica_b.get("/admin/api/leads", headers={"Authorization": f"Bearer b{n}"})
            ).status_code == 401
        assert (await replica_a.get("/admin/api/leads", headers={"Authorization": "Bearer a9"})).status_code == 429
        assert (await replica_b.get("/admin/api/leads", headers=GOOD)).status_code == 429


async def test_the_seed_session_listing_shares_the_lock_out(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(admin_token=TOKEN, admin_auth_limit="2/hour")) as client:
        for n in range(2):
            await client.get("/admin/api/leads", headers={"Authorization": f"Bearer g{n}"})
        listing = await client.get("/sessions", params={"all": "true"}, headers=GOOD)
    assert listing.status_code == 429


async def test_the_admin_api_is_documented_with_its_bearer_scheme(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(make_settings(admin_token=TOKEN)) as client:
        schema = (await client.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["AdminToken"]["scheme"] == "bearer"
    leads = schema["paths"]["/admin/api/leads"]["get"]
    assert leads["security"] == [{"AdminToken": []}]
    assert leads["description"]


async def test_every_admin_answer_is_no_store_the_seed_listing_of_every_session_included(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    """Owner data (every visitor's sessions and addresses) is never kept by a browser or a shared cache."""
    async with client_for(make_settings(admin_token=TOKEN)) as client:
        session_id = (await client.post("/session")).json()["session_id"]
        schema = (await client.get("/openapi.json")).json()
        paths = sorted(
            path.replace("{session_id}", session_id)
            for path, operations in schema["paths"].items()
            if path.startswith("/admin/") and "get" in operations
        )
        assert len(paths) >= 5
        # a data-subject lookup names its subject (exactly one of session_id, visitor, email)
        named = {path: {"session_id": session_id} if "/privacy/subject" in path else {} for path in paths}
        answers = {path: await client.get(path, params=named[path], headers=GOOD) for path in paths}
        answers["/sessions?all=true"] = await client.get("/sessions", params={"all": "true"}, headers=GOOD)
        answers["401 /sessions?all=true"] = await client.get(
            "/sessions", params={"all": "true"}, headers={"Authorization": "Bearer wrong"}
        )
        answers["401 /admin/api/leads"] = await client.get("/admin/api/leads")
        # errors after the token was accepted: they name sessions too
        unknown = "3f1c8f6e-1d7a-4c8a-9a55-7f4f6c1e2b10"
        answers["404 conversation"] = await client.get(f"/admin/api/conversations/{unknown}", headers=GOOD)
        answers["422 count"] = await client.get("/admin/api/leads", params={"count": "0"}, headers=GOOD)
    assert {path: response.status_code for path, response in answers.items()} == {
        **dict.fromkeys(paths, 200),
        "/sessions?all=true": 200,
        "401 /sessions?all=true": 401,
        "401 /admin/api/leads": 401,
        "404 conversation": 404,
        "422 count": 422,
    }
    assert {path: response.headers.get("cache-control") for path, response in answers.items()} == dict.fromkeys(
        answers, "no-store"
    )
