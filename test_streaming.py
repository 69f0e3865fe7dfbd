"""Smoke check: the SSE contract of POST /stream. `uv run python test_streaming.py`"""

from portfolio_backend.smoke import check, client, run, stream


def main() -> None:
    with client() as http:
        response, events = stream(http, "Explain quantum computing in simple terms")
        check(response.status_code == 200, "POST /stream answers 200")
        check(response.headers.get("content-type", "").startswith("text/event-stream"), "content type is SSE")
        check(response.headers.get("x-ratelimit-limit"), "rate limit headers are present")
        check(len([e for e in events if e["type"] == "chunk"]) > 1, "the answer arrives in several chunks")
        check(all(isinstance(e.get("timestamp"), int) for e in events), "every event has an integer ms timestamp")
        check(events[-1]["type"] == "end", "the stream ends with an end event")
        empty = http.post("/stream", json={"prompt": "  "})
        check(empty.status_code in (400, 422) and "error" in empty.json(), "an empty prompt is a JSON 4xx")


if __name__ == "__main__":
    run(main)
