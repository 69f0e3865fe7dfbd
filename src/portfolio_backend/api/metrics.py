"""GET /metrics: Prometheus metrics, for the scraper only when METRICS_TOKEN is set.

They count tokens and spend per model, which the console keeps behind ADMIN_TOKEN. Without
METRICS_TOKEN the endpoint stays open, as before, for a private network (start-up logs that it is).
Read from the Authorization header only, never the URL, which lands in access logs.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from ..deps import MetricsDep, SettingsDep
from ..errors import Unauthorized
from ..settings import Settings

router = APIRouter(tags=["health"])

REFUSED_HEADERS = {"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"}


def check_scraper(settings: Settings, authorization: str | None) -> None:
    """Pass when METRICS_TOKEN is unset or `authorization` is `Bearer <METRICS_TOKEN>`; else 401.
    Compared in constant time: the time taken says nothing about how much of a guess was right."""
    if settings.metrics_token is None:
        return
    scheme, _, token = (authorization or "").partition(" ")
    expected = settings.metrics_token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise Unauthorized(
            "The metrics need the scraper's token: send 'Authorization: Bearer <token>'.", headers=REFUSED_HEADERS
        )


@router.get("/metrics", include_in_schema=False)
async def metrics(
    metrics: MetricsDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """Prometheus metrics: of every worker when several serve (multiprocess mode)."""
    check_scraper(settings, authorization)
    return Response(await metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
