#!/usr/bin/env bash
# Start PortfolioBackend: installs uv if missing, syncs dependencies, runs the service.
# With no .env it runs on the embedded SQLite store with the offline demo model.
set -euo pipefail
cd "$(dirname "$0")"

if command -v uv >/dev/null 2>&1; then
  UV=(uv)
else
  echo "uv not found: installing it with pip" >&2
  python3 -m pip install --quiet uv
  UV=(python3 -m uv)
fi

"${UV[@]}" sync --frozen
exec "${UV[@]}" run python main.py "$@"
