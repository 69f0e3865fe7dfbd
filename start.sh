#!/usr/bin/env bash
# Start PortfolioBackend: installs uv if missing, syncs dependencies, runs the service.
# With no .env it runs on the embedded SQLite store with the offline demo model.
set -euo pipefail
cd "$(dirname "$0")"

source scripts/uv.sh

"${UV[@]}" sync --frozen
exec "${UV[@]}" run python main.py "$@"
