"""Every quota the service applies, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import RateSpec, Settings
from .limiter import Bound, open_streams_bound

GLOBAL_SUBJECT = "all-visitors"


@dataclass(frozen=True, slots=True)
class Bounds:
    """Every configured bound, built once from settings."""

    chat: Bound
    sessions: Bound
    tools_test: Bound
    streams: Bound
    global_daily: Bound | None
    admin_auth: Bound  # wrong admin tokens, counted per visitor
    feedback: Bound  # ratings of answers (POST /feedback)

    @classmethod
    def from_settings(cls, settings: Settings) -> Bounds:
        return cls(
            chat=Bound(
                "chat",
                settings.rate_limit,
                f"Rate limit exceeded: {settings.rate_limit} requests per visitor.",
            ),
            sessions=Bound(
                "sessions",
                settings.session_create_limit,
                f"Too many sessions created: at most {settings.session_create_limit} per visitor.",
            ),
            tools_test=Bound(
                "tools-test",
                settings.tools_test_limit,
                f"Too many tool tests: at most {settings.tools_test_limit} per visitor.",
            ),
            streams=open_streams_bound(settings.max_open_streams_per_visitor),
            global_daily=(
                Bound(
                    "global",
                    RateSpec(settings.global_daily_requests, 86400),
                    "The assistant has reached its daily capacity. Please come back tomorrow.",
                )
                if settings.global_daily_requests
                else None
            ),
            admin_auth=Bound(
                "admin-auth",
                settings.admin_auth_limit,
                f"Too many wrong admin tokens: at most {settings.admin_auth_limit} per visitor.",
            ),
            feedback=Bound(
                "feedback",
                settings.feedback_limit,
                f"Too many ratings: at most {settings.feedback_limit} per visitor.",
            ),
        )
