"""Entry point: `uv run python main.py`, or `uv run uvicorn main:app` (the app is built here)."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from portfolio_backend.app import create_app
from portfolio_backend.logs import configure_logging
from portfolio_backend.observability import share_metrics_between_workers
from portfolio_backend.settings import Settings


def load_settings() -> Settings:
    """Settings from the environment and .env; a bad value stops start-up with a readable message."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(part) for part in error['loc']).upper() or 'SETTINGS'}: {error['msg']}"
            for error in exc.errors()
        ]
        sys.stderr.write("PortfolioBackend cannot start: invalid configuration\n" + "\n".join(lines) + "\n")
        raise SystemExit(2) from None


settings = load_settings()
configure_logging(settings)
# in the process that starts the workers, before any metric exists (the workers import this module too)
metrics_dir = share_metrics_between_workers(settings.web_concurrency) if __name__ == "__main__" else None
app = create_app(settings)

if __name__ == "__main__":
    import shutil

    import uvicorn

    uvicorn.run(
        # several workers need the app by name: each worker process imports and builds its own
        "main:app" if settings.web_concurrency > 1 else app,
        workers=settings.web_concurrency,
        host=settings.host,
        port=settings.port,
        log_config=None,
        # the app reads X-Forwarded-For itself, from TRUSTED_PROXIES only
        proxy_headers=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        # uvicorn kills a worker that does not answer its ping in time, and a new worker answers only
        # once it has imported this module: 5 s (the default) was too short on a busy 2-core host
        # (14 s), so workers were killed and respawned forever. The pong comes from a thread, so a
        # worker whose event loop is busy still answers: only a start-up this slow or a hung process waits.
        timeout_worker_healthcheck=60,
    )
    if metrics_dir is not None:
        shutil.rmtree(metrics_dir, ignore_errors=True)
