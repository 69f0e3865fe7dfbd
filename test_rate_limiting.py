"""Smoke check: quota headers and the 429 once the quota is spent. `uv run python test_rate_limiting.py`

It spends this machine's whole quota for the day on the server it checks.
"""

from portfolio_backend.smoke import check, client, run


def main() -> None:
    with client() as http:
        info = http.get("/rate-limit-info").json()
        check({"ip", "current_requests", "limit", "remaining", "reset"} <= set(info), f"rate limit info: {info}")
        for _ in range(info["remaining"]):
            response = http.post("/stream", json={"prompt": "hi"})
            check(response.status_code == 200, f"allowed, {response.headers['x-ratelimit-remaining']} remaining")
        refused = http.post("/stream", json={"prompt": "hi"})
        check(refused.status_code == 429, "the next request is refused with 429")
        check(refused.headers.get("retry-after"), f"with Retry-After: {refused.headers.get('retry-after')} s")
        check(refused.json().get("error") == "rate_limited", f"and a clear message: {refused.json().get('detail')}")


if __name__ == "__main__":
    run(main)
