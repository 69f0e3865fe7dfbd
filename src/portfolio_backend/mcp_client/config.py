"""MCP_SERVERS: the owner's MCP servers, read and checked once at start-up.

A JSON list, in the variable itself or in the file it names. One object per server: `name`, then
either `command` + `args` (a child process over stdio) or `url` (Streamable HTTP) with optional
`headers`; `env` (stdio) and header values may name environment variables as `${NAME}`, so a key
stays out of the list; `tools` is the allowlist (the server's own tool names); `timeout` bounds
one call in seconds. A bad entry stops start-up with a message naming it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import StartupError

# Tool names the model sees are `<server>__<tool>`, within OpenAI's ^[a-zA-Z0-9_-]{1,64}$.
SERVER_NAME = re.compile(r"^[A-Za-z0-9-]{1,24}$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class McpServerConfig(BaseModel):
    """One entry of MCP_SERVERS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=SERVER_NAME.pattern, description="Letters, digits and '-'; prefixes its tools.")
    command: str | None = Field(None, min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = Field(None, pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)
    tools: list[str] | None = None
    timeout: float = Field(15.0, gt=0, le=300)

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either `command` (stdio) or `url` (Streamable HTTP)")
        if self.url is not None and (self.args or self.env):
            raise ValueError("`args` and `env` go with `command`, not `url`")
        if self.command is not None and self.headers:
            raise ValueError("`headers` go with `url`, not `command`")
        return self

    @property
    def transport(self) -> str:
        return "stdio" if self.command is not None else "http"

    def allows(self, tool: str) -> bool:
        return self.tools is None or tool in self.tools


def parse_servers(text: str, environ: dict[str, str] | None = None) -> list[McpServerConfig]:
    """The servers a JSON list describes, with `${NAME}` resolved; StartupError naming the bad entry."""
    environ = dict(os.environ) if environ is None else environ
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StartupError(f"MCP_SERVERS is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
    if not isinstance(entries, list):
        raise StartupError("MCP_SERVERS must be a JSON list of servers.")
    servers: list[McpServerConfig] = []
    for number, entry in enumerate(entries, 1):
        label = _label(number, entry)
        try:
            server = McpServerConfig.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'entry'}: {error['msg']}"
                for error in exc.errors(include_url=False)
            )
            raise StartupError(f"MCP_SERVERS {label}: {problems}.") from exc
        if any(other.name == server.name for other in servers):
            raise StartupError(f"MCP_SERVERS {label}: another server has this name.")
        servers.append(
            server.model_copy(
                update={
                    "env": _resolve(server.env, environ, label),
                    "headers": _resolve(server.headers, environ, label),
                }
            )
        )
    return servers


async def load_servers(value: str) -> list[McpServerConfig]:
    """MCP_SERVERS as set: empty, a JSON list, or the path of a file holding one (read off the loop)."""
    if not value.strip():
        return []
    if value.lstrip().startswith("["):
        return parse_servers(value)
    path = Path(value.strip())
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except OSError as exc:
        raise StartupError(f"MCP_SERVERS names {str(path)!r}, which cannot be read ({exc.strerror}).") from exc
    return parse_servers(text)


def _label(number: int, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"entry {number} ({name!r})" if isinstance(name, str) else f"entry {number}"


def _resolve(values: dict[str, str], environ: dict[str, str], label: str) -> dict[str, str]:
    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            # the variable's name, never a value: these are secrets
            raise StartupError(f"MCP_SERVERS {label}: the environment variable {name} is not set.")
        return environ[name]

    return {key: _VARIABLE.sub(value_of, value) for key, value in values.items()}
