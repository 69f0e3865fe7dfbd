"""Smoke check: tools listed, tested directly, and used while streaming. `uv run python test_tools.py`"""

from portfolio_backend.smoke import check, client, run, stream


def main() -> None:
    with client() as http:
        names = {tool["name"] for tool in http.get("/tools").json()["tools"]}
        check({"get_current_time", "calculate", "get_session_info"} <= names, f"GET /tools lists {sorted(names)}")
        result = http.post("/tools/test", json={"tool_name": "calculate", "arguments": {"expression": "2 + 2 * 3"}})
        check(result.json().get("result") == "Result: 2 + 2 * 3 = 8", "calculate 2 + 2 * 3 = 8")
        hostile = http.post("/tools/test", json={"tool_name": "calculate", "arguments": {"expression": "9**9**9**9"}})
        check(hostile.status_code == 200 and hostile.json()["success"] is False, "9**9**9**9 is refused, not run")
        session_id = http.post("/session").json()["session_id"]
        _, events = stream(http, "What is the current time?", session_id)
        check(any(e["type"] == "tool_result" for e in events), "a time question triggers a tool_result event")


if __name__ == "__main__":
    run(main)
