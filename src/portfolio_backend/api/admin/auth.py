"""Who may use the owner's console: a Bearer ADMIN_TOKEN, compared in constant time, with wrong
guesses counted per visitor in the shared store.

The failure counter lives in the store and goes through the quota limiter, like every other bound,
so two replicas do not give an attacker twice the guesses (a count kept per process would). A locked-out visitor is
refused before their token is even compared, so the lock holds for the right token too: that is what
makes it a bound on guessing. The token is read from the Authorization header only, never from a
query string, which would land in access logs, proxy logs and browser history.
"""

from __future__ import annotations

import dataclasses
import hmac
from dataclasses import dataclass
from typing import Annotated, NoReturn

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ...deps import Visitor, visitor_of
from ...errors import RateLimited, Unauthorized
from ...quota import Bound, Limiter, QuotaDecision
from ...settings import Settings

# OpenAPI shows an "Authorize" button for it; auto_error off so the 401 has our JSON shape.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="AdminToken",
    description="The owner's ADMIN_TOKEN, as `Authorization: Bearer <token>`.",
)

# owner data, and the answers that refuse it: never kept by a browser cache or a shared proxy
NO_STORE = {"Cache-Control": "no-store"}
REFUSAL_HEADERS = {"WWW-Authenticate": 'Bearer realm="admin"', **NO_STORE}


@dataclass(frozen=True, slots=True)
class AdminCaller:
    """A request that proved it holds ADMIN_TOKEN, and where it came from."""

    visitor: Visitor


async def authorize(request: Request, token: str | None) -> AdminCaller:
    """Accept `token` if it is ADMIN_TOKEN; else 401, or 429 once the visitor has guessed wrong too often.

    Raises Unauthorized / RateLimited (the app renders them as JSON); StoreError when the failure
    counter cannot be read (503: without it guesses could not be bounded).
    """
    state = request.state
    settings: Settings = state.settings
    limiter: Limiter = state.limiter
    bound: Bound = state.bounds.admin_auth
    expected = settings.admin_token.get_secret_value().encode() if settings.admin_token else None
    if expected is None:  # routes that check this exist only when the token is set; belt and braces
        raise Unauthorized("Admin views are disabled: set ADMIN_TOKEN to enable them.", headers=REFUSAL_HEADERS)
    if not token:  # nothing guessed, nothing to count
        raise Unauthorized(
            "This needs the admin token: send 'Authorization: Bearer <ADMIN_TOKEN>'.", headers=REFUSAL_HEADERS
        )
    visitor = await visitor_of(request, settings)
    standing = await limiter.peek(bound, visitor.key)
    if standing.count >= bound.rate.limit:
        _refuse(dataclasses.replace(standing, allowed=False))
    if hmac.compare_digest(token.encode(), expected):
        state.owner_answer = True  # the app's error handlers add NO_STORE to what this request answers
        return AdminCaller(visitor)
    (decision,) = await limiter.charge([(bound, visitor.key)])
    if not decision.allowed:
        _refuse(decision)
    raise Unauthorized("Wrong admin token.", headers=REFUSAL_HEADERS)


def error_headers(request: Request, headers: dict[str, str]) -> dict[str, str]:
    """An error answer's headers: with NO_STORE once the request proved it holds ADMIN_TOKEN (a
    conversation that is not found, a bad page size: they name owner data too)."""
    return {**headers, **NO_STORE} if getattr(request.state, "owner_answer", False) else headers


def _refuse(decision: QuotaDecision) -> NoReturn:
    raise RateLimited(
        f"{decision.bound.message} Try again after {decision.reset_iso}.",
        headers={**decision.headers(), **REFUSAL_HEADERS},
        retry_after=decision.retry_after,
    )


async def require_admin(
    request: Request,
    response: Response,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AdminCaller:
    """The dependency of every admin route: 401 without the right Bearer token, 429 after too many wrong ones."""
    caller = await authorize(request, credentials.credentials if credentials else None)
    response.headers.update(NO_STORE)
    return caller


AdminDep = Annotated[AdminCaller, Depends(require_admin)]
