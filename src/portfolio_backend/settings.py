"""Every setting the service reads, from the environment or `.env`, validated once at start-up.

pydantic-settings is used rather than hand-parsing os.environ: it gives typed values, `.env`
support and one clear error naming the bad variable.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*$")


@dataclass(frozen=True, slots=True)
class RateSpec:
    """A fixed-window limit such as `10/day`: `limit` requests per `window_seconds`."""

    limit: int
    window_seconds: int

    @classmethod
    def parse(cls, text: str) -> RateSpec:
        match = _RATE.match(text)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"{text!r} is not a rate such as '10/day' (N/second|minute|hour|day, N >= 1)")
        return cls(int(match.group(1)), _PERIODS[match.group(2)])

    def __str__(self) -> str:
        period = next(name for name, seconds in _PERIODS.items() if seconds == self.window_seconds)
        return f"{self.limit}/{period}"


class ModelPrice(BaseModel):
    """A model's price in USD per million tokens; `cached_input` defaults to `input`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(None, ge=0)


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """One instance is built at start-up and handed to `create_app()`; nothing reads it at import."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Server
    host: str = Field("0.0.0.0", description="Interface `python main.py` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `python main.py` listens on.")
    web_concurrency: int = Field(
        1,
        ge=1,
        le=64,
        description="Worker processes `python main.py` runs (uvicorn's own variable): about one per core.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Log level of the JSON logs, in any case (uvicorn spells them `info`)."
    )
    log_prompts: bool = Field(False, description="Log visitors' prompts (off: prompts never reach logs).")

    # LLM
    openai_api_key: SecretStr | None = Field(None, description="Key for the LLM; unset runs the offline demo model.")
    openai_base_url: str | None = Field(
        None,
        description="Any OpenAI-compatible server, e.g. http://localhost:11434/v1.",
    )
    openai_model: str = Field("gpt-4o-mini", description="Model name sent upstream.")
    openai_connect_timeout: float = Field(5.0, gt=0, description="Seconds to connect to the LLM.")
    openai_read_timeout: float = Field(60.0, gt=0, description="Seconds to wait for the next streamed byte.")
    openai_max_retries: int = Field(2, ge=0, le=10, description="Retries before the first token only.")
    openai_stream_usage: bool = Field(True, description="Ask for token usage in the stream (stream_options).")
    openai_tool_choice: str = Field(
        "",
        pattern=r"^(|auto|[A-Za-z0-9_-]{1,64})$",
        description=(
            "`tool_choice` sent with the tools. Unset: none (the server decides; OpenAI's default is auto). "
            "`auto`: for servers that call tools only when asked. A tool's name: the model must call that "
            "tool in each turn's first round, then chooses freely."
        ),
    )
    system_prompt_file: Path = Field(Path("data/system_prompt.md"), description="The site owner's persona.")
    demo_word_delay: float = Field(0.03, ge=0, le=1, description="Pause between the demo model's words.")
    max_tool_rounds: int = Field(4, ge=0, le=16, description="Model-tool round trips per turn.")
    model_prices: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description='Prices per model in USD per 1M tokens, JSON: {"my-model": {"input": 0.5, "output": 1.5}}.',
    )

    # Storage
    redis_url: str | None = Field(None, description="redis:// or rediss:// URL; selects the Redis store.")
    redis_host: str | None = Field(None, description="Redis host, when REDIS_URL is not set; selects the Redis store.")
    redis_port: int = Field(6379, description="Redis port, with REDIS_HOST.")
    redis_db: int = Field(0, ge=0, description="Redis database number, with REDIS_HOST.")
    redis_password: SecretStr | None = Field(None, description="Password for REDIS_HOST.")
    redis_cluster: bool = Field(False, description="Treat REDIS_URL as a Redis Cluster entry node.")
    database_path: Path = Field(Path("data/portfolio.sqlite3"), description="SQLite file of the embedded store.")
    store_timeout: float = Field(2.0, gt=0, description="Seconds before a store call counts as an outage.")

    # Sessions and prompts
    session_ttl_seconds: int = Field(86400, ge=60, description="Sessions expire after this much inactivity.")
    session_max_messages: int = Field(20, ge=2, le=1000, description="Messages kept per session.")
    prompt_max_chars: int = Field(4000, ge=1, description="Longest prompt accepted.")
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="Largest request body accepted.")

    # Quota and bounds
    rate_limit: Annotated[RateSpec, NoDecode] = Field(
        RateSpec(10, 86400), description="POST /stream per visitor, e.g. 10/day."
    )
    session_create_limit: Annotated[RateSpec, NoDecode] = Field(
        RateSpec(30, 3600), description="Sessions a visitor may create: POST /session, and new chats on POST /api/chat."
    )
    tools_test_limit: Annotated[RateSpec, NoDecode] = Field(
        RateSpec(30, 3600), description="POST /tools/test per visitor."
    )
    owner_answers_direct: bool = Field(
        False,
        description="Answer a question that closely matches an owner answer with it, without calling the model.",
    )
    feedback_limit: Annotated[RateSpec, NoDecode] = Field(
        RateSpec(30, 3600), description="POST /feedback (ratings of answers) per visitor."
    )
    max_open_streams_per_visitor: int = Field(3, ge=1, description="Streams one visitor may hold open at once.")
    max_inflight_turns: int = Field(
        600,
        ge=0,
        description="Chat turns one process runs at once; past it a new turn is refused at once with a 503 and "
        "Retry-After, uncharged, instead of queueing into timeouts (0 = no bound; docs/performance.md).",
    )
    global_daily_requests: int = Field(
        1000,
        ge=0,
        description="Upstream chat turns per UTC day across all visitors (0 = no cap).",
    )
    daily_budget_usd: float = Field(
        0.0,
        ge=0,
        description="Model spend per UTC day across all visitors, in USD, by the price table (0 = no budget).",
    )
    visitor_daily_tokens: int = Field(0, ge=0, description="Model tokens per visitor per UTC day (0 = no budget).")
    usage_retention_days: int = Field(
        90, ge=1, le=3650, description="Days the per-day usage accounting is kept (the console shows 30)."
    )
    transcript_retention_days: int = Field(
        30, ge=1, le=3650, description="Days the owner can review a conversation after its last message."
    )
    leads_retention_days: int = Field(
        365, ge=1, le=3650, description="Days leads and unknown questions are kept after they came in."
    )
    retention_sweep_seconds: float = Field(
        3600.0, gt=0, description="How often the retention worker deletes what expired."
    )
    rate_limit_fail_open: bool = Field(False, description="Serve without a quota check when the store is down.")
    trusted_proxies: Annotated[list[ipaddress.IPv4Network | ipaddress.IPv6Network], NoDecode] = Field(
        default_factory=list,
        description="CIDRs whose X-Forwarded-For / Forwarded headers are believed.",
    )
    ipv6_prefix: int = Field(64, ge=1, le=128, description="IPv6 visitors are counted per this prefix.")
    visitor_hash_secret: SecretStr | None = Field(
        None,
        min_length=16,
        description="Key of the visitors' pseudonyms (HMAC of their address); unset: one generated into the store.",
    )
    store_visitor_ips: bool = Field(
        False, description="Know visitors by their IP address in the store, logs and console instead of a pseudonym."
    )

    # HTTP surface
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser; * for any.",
    )
    admin_token: SecretStr | None = Field(
        None, description="Bearer token of the console at /admin and GET /sessions?all=true; unset: no admin route."
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Bearer token GET /metrics answers only to; unset: /metrics is open (for a private network).",
    )
    admin_auth_limit: Annotated[RateSpec, NoDecode] = Field(
        RateSpec(10, 3600), description="Wrong admin tokens per visitor before a lock-out, e.g. 10/hour."
    )
    privacy_url: str | None = Field(
        None, description="The owner's privacy policy, linked from the widget's privacy line; unset: no link."
    )
    docs_enabled: bool = Field(True, description="Serve /docs, /redoc and /openapi.json.")
    shutdown_grace_seconds: int = Field(10, ge=0, description="Time in-flight streams get on SIGTERM.")
    keepalive_seconds: float = Field(15.0, gt=0, description="Idle time before a keep-alive event.")

    # Resumable answers (turns with a session)
    resume_grace_seconds: float = Field(
        15.0, ge=0, le=600, description="How long a turn whose visitor left keeps running for them to reattach."
    )
    resume_max_events: int = Field(20000, ge=100, description="Events a turn's resume buffer keeps.")
    resume_buffer_ttl_seconds: int = Field(
        300, ge=1, le=86400, description="How long an ended turn can still be replayed."
    )

    # Tools
    tool_timeout_seconds: float = Field(8.0, gt=0, description="Longest a tool may run.")
    tool_result_max_chars: int = Field(4000, ge=100, description="Tool results are cut to this size.")
    weather_geocoding_url: str = Field(
        "https://geocoding-api.open-meteo.com/v1/search",
        description="Open-Meteo geocoding endpoint.",
    )
    weather_forecast_url: str = Field(
        "https://api.open-meteo.com/v1/forecast",
        description="Open-Meteo forecast endpoint.",
    )
    searxng_url: str | None = Field(None, description="SearXNG base URL (JSON format enabled).")
    tavily_api_key: SecretStr | None = Field(None, description="Tavily API key for web search.")
    tavily_url: str = Field("https://api.tavily.com/search", description="Tavily search endpoint.")
    reminder_webhook_url: str | None = Field(None, description="Due reminders are POSTed here.")
    notify_webhook_url: str | None = Field(None, description="Leads and unknown questions are POSTed here.")

    # MCP (docs/mcp.md)
    mcp_enabled: bool = Field(True, description="Serve the site as an MCP server at /mcp (ask, search, contact).")
    mcp_servers: str = Field(
        "",
        description="The owner's MCP servers whose tools the assistant may call: a JSON list, or the path of a file "
        "holding one (docs/mcp.md).",
    )

    # Owner knowledge: pages, résumé and notes the assistant answers from (README "Teach it about you")
    knowledge_dir: Path | None = Field(
        Path("data/knowledge"),
        description="Markdown, text, HTML and PDF files about the owner; empty to use none.",
    )
    knowledge_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated pages of the owner's site, fetched at start-up and on reload.",
    )
    knowledge_sitemap: str | None = Field(
        None, description="The owner's sitemap.xml: its pages on the sitemap's own host are fetched too."
    )
    knowledge_index_path: Path = Field(
        Path("data/knowledge.sqlite3"),
        description="SQLite file of the knowledge index (built in memory when it cannot be written).",
    )
    knowledge_max_tokens: int = Field(
        1500,
        ge=100,
        description="Knowledge tokens sent per turn; when everything fits it is sent whole, else the best passages.",
    )
    knowledge_max_bytes: int = Field(
        5_000_000, ge=1024, description="Largest knowledge file or page read; bigger ones are refused."
    )
    knowledge_max_pages: int = Field(50, ge=1, le=1000, description="Most pages fetched from URLs and the sitemap.")
    knowledge_fetch_timeout: float = Field(20.0, gt=0, description="Seconds for fetching all knowledge pages together.")
    embeddings_model: str | None = Field(
        None,
        description="Embeddings model on the OpenAI-compatible endpoint; set for hybrid (BM25 + vector) ranking.",
    )

    @field_validator(
        "rate_limit", "session_create_limit", "tools_test_limit", "admin_auth_limit", "feedback_limit", mode="before"
    )
    @classmethod
    def _parse_rate(cls, value: object) -> object:
        return RateSpec.parse(value) if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("cors_origins", "knowledge_urls", mode="before")
    @classmethod
    def _parse_origins(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("knowledge_urls")
    @classmethod
    def _check_knowledge_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http:// or https:// URL")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        items = _split_list(value)
        if isinstance(items, list):
            return [ipaddress.ip_network(str(item), strict=False) for item in items]
        return items

    @field_validator("knowledge_sitemap", "embeddings_model", "knowledge_dir", "privacy_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "openai_api_key", "admin_token", "metrics_token", "tavily_api_key", "visitor_hash_secret", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _check_urls(self) -> Settings:
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("REDIS_URL must start with redis://, rediss:// or unix://")
        if self.knowledge_sitemap and not self.knowledge_sitemap.startswith(("http://", "https://")):
            raise ValueError("KNOWLEDGE_SITEMAP must be an http:// or https:// URL")
        if self.privacy_url and not self.privacy_url.startswith(("http://", "https://")):
            raise ValueError("PRIVACY_URL must be an http:// or https:// URL (the widget links it from other sites)")
        return self

    @property
    def redis_dsn(self) -> str | None:
        """The Redis URL to use, from REDIS_URL, else REDIS_HOST/PORT/DB; None selects SQLite."""
        if self.redis_url:
            return self.redis_url
        if self.redis_host:
            # escaped: `/`, `?`, `#`, `%` or `@` in a password would otherwise end or bend the URL
            # (redis-py unquotes it again)
            auth = f":{quote(self.redis_password.get_secret_value(), safe='')}@" if self.redis_password else ""
            return f"redis://{auth}{self.redis_host}:{self.redis_port}/{self.redis_db}"
        return None
