"""Container health probe: exit 0 when GET /health/live answers 200, else 1.

Used by the Dockerfile's HEALTHCHECK and the Compose files. Standard library only (the slim image
has no curl); environment proxies are ignored so HTTP_PROXY set for the app cannot divert it.

    python healthcheck.py [PATH]      # PATH defaults to /health/live; PORT defaults to 8000
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/health/live"
    port = os.environ.get("PORT", "8000")
    url = f"http://127.0.0.1:{port}{path}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=float(os.environ.get("HEALTHCHECK_TIMEOUT", "4"))) as response:
            ok = response.status == 200
    except (urllib.error.URLError, OSError, ValueError) as exc:
        sys.stderr.write(f"unhealthy: {url}: {exc}\n")
        return 1
    if not ok:
        sys.stderr.write(f"unhealthy: {url}: HTTP {response.status}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
