#!/usr/bin/env bash
# Run every check: lint, format, types and the test suite (real redis-server, real SQLite files,
# a scripted OpenAI-compatible upstream over HTTP, and the AI SDK's own client under Node for
# POST /api/chat), then the widget's pure modules under Node's built-in test runner. Installs uv
# if missing.
set -euo pipefail
cd "$(dirname "$0")"

source scripts/uv.sh
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server is needed by the tests (they start their own on a free port)." >&2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  else
    echo "Install it: sudo apt-get install redis-server (or brew install redis)" >&2
    exit 1
  fi
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "Node.js 20+ and npm are needed by the widget's module tests (node --test tests/widget/js/)" >&2
  echo "and the AI SDK client tests (tests/aisdk)." >&2
  echo "Install them: sudo apt-get install nodejs npm (or from nodejs.org)" >&2
  exit 1
fi

"${UV[@]}" sync --frozen
# the pinned AI SDK client, from package-lock.json; reinstalled only when it no longer matches
npm ls --depth=0 >/dev/null 2>&1 || npm ci --no-audit --no-fund --loglevel=error
"${UV[@]}" run ruff check .
"${UV[@]}" run ruff format --check .
"${UV[@]}" run mypy
"${UV[@]}" run pytest "$@"
# the widget's Markdown renderer and stream reader, without a browser
node --test tests/widget/js/
