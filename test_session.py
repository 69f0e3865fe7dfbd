"""Smoke check: session create, history, list, delete. `uv run python test_session.py`"""

from portfolio_backend.smoke import check, client, run, stream


def main() -> None:
    with client() as http:
        created = http.post("/session").json()
        session_id = created["session_id"]
        check(created["message"] == "Session created successfully", f"session {session_id} created")
        stream(http, "Hello! My name is Ada.", session_id)
        stream(http, "Remember my name from our previous conversation", session_id)
        history = http.get(f"/session/{session_id}").json()
        check(history["message_count"] >= 4, f"history holds both turns ({history['message_count']} messages)")
        check(history["messages"][0]["content"] == "Hello! My name is Ada.", "history starts with the first prompt")
        listed = http.get("/sessions").json()
        check(session_id in {s["session_id"] for s in listed["sessions"]}, "GET /sessions lists it")
        check(http.delete(f"/session/{session_id}").status_code == 200, "DELETE /session removes it")
        check(http.get(f"/session/{session_id}").status_code == 404, "and then it is gone")


if __name__ == "__main__":
    run(main)
