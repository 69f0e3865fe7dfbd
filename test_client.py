"""Smoke check of a running server: info, health, one streamed answer. `uv run python test_client.py`"""

from portfolio_backend.smoke import check, client, run, stream


def main() -> None:
    with client() as http:
        check(http.get("/").json().get("status") == "ok", "GET / answers")
        health = http.get("/health")
        check(health.status_code == 200, f"GET /health is healthy ({health.json().get('storage')})")
        response, events = stream(http, "Tell me a short story about a robot")
        check(response.status_code == 200, "POST /stream answers 200")
        check(any(event["type"] == "chunk" for event in events), "the answer streams in chunks")
        check(events and events[-1]["type"] == "end", "the stream ends with an end event")


if __name__ == "__main__":
    run(main)
