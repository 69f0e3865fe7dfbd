"""Fixtures for the deployment checks; the helpers live in deploy_helpers.py beside this file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# Make `import deploy_helpers` work whatever pytest's import mode is.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_helpers import (
    COMPOSE_DEV,
    COMPOSE_PROD,
    DOCKERFILE,
    Dockerfile,
    load_compose,
    parse_dockerfile,
)


@pytest.fixture(scope="session")
def dockerfile() -> Dockerfile:
    return parse_dockerfile(DOCKERFILE.read_text())


@pytest.fixture(scope="session")
def compose_dev() -> dict[str, Any]:
    return load_compose(COMPOSE_DEV)


@pytest.fixture(scope="session")
def compose_prod() -> dict[str, Any]:
    return load_compose(COMPOSE_PROD)
