"""Compose files read as the Compose CLI reads them with no variables set: YAML, then interpolation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

_INTERPOLATION = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose variable interpolation against `env` (defaults apply for unset names)."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, default = match.group(2), match.group(3)
        current = env.get(name)
        if operator == ":-" and not current:
            return default or ""
        if operator == "-" and current is None:
            return default or ""
        return current or ""

    return _INTERPOLATION.sub(replace, value)


def load_compose(path: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The Compose file as the CLI sees it with no variables set (or `env`), anchors resolved."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the Compose files")
    data = yaml.safe_load(path.read_text())
    return interpolate(data, env or {})


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.partition("=") for item in env)
        return {key: val for key, _, val in pairs}
    return {key: "" if val is None else str(val) for key, val in env.items()}
