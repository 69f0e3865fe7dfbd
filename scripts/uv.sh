# shellcheck shell=bash disable=SC2034
# Sourced by start.sh and test.sh: sets UV to a uv command, installing uv with pip when missing.
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
else
  echo "uv not found: installing it with pip" >&2
  python3 -m pip install --quiet uv
  UV=(python3 -m uv)
fi
