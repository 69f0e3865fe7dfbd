"""The owner's MCP servers: their tools offered to the model beside the built-in ones (docs/mcp.md)."""

from .config import McpServerConfig, load_servers, parse_servers
from .link import ServerLink
from .tools import McpTool, McpTools, render_output

__all__ = ["McpServerConfig", "McpTool", "McpTools", "ServerLink", "load_servers", "parse_servers", "render_output"]
