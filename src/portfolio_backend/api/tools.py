"""The tools the model may call: list them, or try one directly."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from ..deps import (
    BoundsDep,
    HttpDep,
    LimiterDep,
    SettingsDep,
    StoresDep,
    ToolsDep,
    VisitorDep,
)
from ..errors import NotFound, Unprocessable
from ..tools import InvalidArguments, ToolContext, ToolError, UnknownTool
from .body import RequestBody
from .session_views import parse_session_id

router = APIRouter(tags=["tools"])


class ToolTestRequest(RequestBody):
    tool_name: str = Field(..., max_length=64, examples=["calculate"])
    arguments: dict[str, Any] = Field(default_factory=dict, examples=[{"expression": "2 + 2 * 3"}])
    session_id: str | None = Field(None, max_length=64, description="For get_session_info and create_reminder.")


@router.get("/tools")
async def list_tools(tools: ToolsDep) -> dict[str, Any]:
    """List every tool with its description, JSON Schema parameters and whether it is enabled."""
    described = tools.describe()
    return {"total_tools": len(described), "tools": described}


@router.post("/tools/test")
async def test_tool(
    body: ToolTestRequest,
    visitor: VisitorDep,
    settings: SettingsDep,
    stores: StoresDep,
    tools: ToolsDep,
    limiter: LimiterDep,
    bounds: BoundsDep,
    http: HttpDep,
) -> dict[str, Any]:
    """Run one tool directly with the given arguments."""
    try:
        tool, args = tools.parse(body.tool_name, body.arguments)
    except UnknownTool as exc:
        raise NotFound(str(exc)) from exc
    except InvalidArguments as exc:
        raise Unprocessable(f"Invalid arguments for {body.tool_name}: {exc}") from exc
    session_id = parse_session_id(body.session_id) if body.session_id else None
    await limiter.admit([(bounds.tools_test, visitor.key)])
    ctx = ToolContext(settings, stores, http, visitor.key, session_id)
    try:
        result = await tools.run(tool, args, ctx)
    except ToolError as exc:
        return {
            "tool_name": body.tool_name,
            "success": False,
            "result": f"Error: {exc}",
        }
    return {"tool_name": body.tool_name, "success": True, "result": result}
