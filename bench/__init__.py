"""The relay benchmark: `uv run python -m bench.run` (see docs/performance.md)."""
